"""English local authority (LA) numbers that may stand in characters 2-4 of a UPN, and in a DfE number.

Data only. A UPN is issued once and kept for life, so codes of authorities that have since been abolished
stay valid: a pupil's (former) UPN may carry them.

Sources (checked 2025):
- The school census validation rule 1530 ("UPN invalid / Former UPN invalid (characters 2-4 not a
  recognised LA code)"): "a valid post-April 1999 LA code or a recognised pseudo-LA code", listed as
  001-005, 201-213, 301-320, 330-336, 340-344, 350-359, 370-373, 380-384, 390-394, 420, 660-681, 701-708,
  800-803, 805-808, 810-813, 815, 816, 820-823, 825, 826, 830, 831, 835-837, 840, 841, 845, 846, 850-852,
  855-857, 860, 861, 865-896, 908, 909, 916, 919, 921, 925, 926, 928, 929, 931, 933, 935-938
  (as quoted by the Arbor MIS help page "UPN Errors (1500, 1510, 1520, 1530, 1540, 1550)",
  support.arbor-education.com/hc/en-us/articles/360010161153). 660-681 are the Welsh authorities; 702 is
  the British Forces Post Office overseas establishments.
- Authorities created since that list, from the DfE's own LA lookup (dfe-analytical-services/
  dfe-published-data-qa data/las.csv, and dfeR data-raw/old_la_codes.csv, both taken from Get
  Information about Schools "Local authority name and associated codes"): 838 Dorset and
  839 Bournemouth, Christchurch and Poole (April 2019, replacing 835 Dorset, 836 Poole and
  837 Bournemouth); 940 North Northamptonshire and 941 West Northamptonshire (April 2021, replacing
  928 Northamptonshire); 942 Cumberland and 943 Westmorland and Furness (April 2023, replacing
  909 Cumbria). North Yorkshire (815), Somerset (933) and Buckinghamshire (825) kept their numbers when
  they became unitary.
- python-stdnum's stdnum/gb/upn.py holds the January 2011 list: it is a subset of the above (it lacks the
  pseudo-LA codes, the 2009-abolished 820 Bedfordshire and 875 Cheshire, and everything since 2011).
"""

from __future__ import annotations

from typing import Final

__all__ = ["LA_CODES"]

# Inclusive ranges and single codes of census rule 1530, as the rule lists them.
_CENSUS_1530: Final[tuple[tuple[int, int], ...]] = (
    (1, 5),  # pseudo-LA codes
    (201, 213),
    (301, 320),
    (330, 336),
    (340, 344),
    (350, 359),
    (370, 373),
    (380, 384),
    (390, 394),
    (420, 420),
    (660, 681),  # Wales
    (701, 708),  # pseudo-LA codes (702: British Forces Post Office overseas establishments)
    (800, 803),
    (805, 808),
    (810, 813),
    (815, 816),
    (820, 823),
    (825, 826),
    (830, 831),
    (835, 837),
    (840, 841),
    (845, 846),
    (850, 852),
    (855, 857),
    (860, 861),
    (865, 896),
    (908, 909),
    (916, 916),
    (919, 919),
    (921, 921),
    (925, 926),
    (928, 929),
    (931, 931),
    (933, 933),
    (935, 938),
)

# Authorities created after the census list above was published.
_NEWER: Final[tuple[int, ...]] = (
    838,  # Dorset (2019)
    839,  # Bournemouth, Christchurch and Poole (2019)
    940,  # North Northamptonshire (2021)
    941,  # West Northamptonshire (2021)
    942,  # Cumberland (2023)
    943,  # Westmorland and Furness (2023)
)

LA_CODES: Final[frozenset[str]] = frozenset(
    {f"{code:03d}" for low, high in _CENSUS_1530 for code in range(low, high + 1)}
    | {f"{code:03d}" for code in _NEWER}
)
"""Every recognised LA number as a 3-digit string, e.g. "201", "001", "943"."""
