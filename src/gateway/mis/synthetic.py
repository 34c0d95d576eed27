"""A deterministic synthetic English secondary school, every MIS resource of it (SPEC §3.7). Pure.

`generate_school(seed, today=...)` builds a school of about `students` pupils (years 7-11 and a small sixth
form) with staff, contacts, groups, a term of attendance, assessment results and exclusions, as the JSON-ready
dicts a connector pushes. No I/O, no clock, no global random state: the same arguments give byte-identical
records. Each part draws from its own `random.Random` stream, so changing `attendance_days` changes only the
attendance. Every record validates against `gateway.mis.records` with `context={"today": today}`.

Invented, never real:
- names are combined at random from modest lists of given names and surnames (English surnames built from
  parts); school, town and street names are built from parts;
- emails use example.org / example.com (RFC 2606); telephone numbers lie in Ofcom's ranges for TV and radio
  drama (07700 900xxx, 01632 960xxx and the city ranges 0113-0161 496 0xxx, 020 7946 0xxx, 0191 498 0xxx);
  NHS numbers lie in 999 000 0000-999 999 9999, which the NHS never issues; URNs are 9xxxxx, above the
  1xxxxx URNs English schools hold; postcodes take the school's real postcode area with random districts
  and inward codes, on invented streets.

Realistic (round figures near recent DfE national statistics for state secondaries, not a calibration): an
England-like ethnicity mix with matching names and languages (~18% EAL), ~13% SEN support and ~2.5% EHC plans,
~25% FSM (FSM6 and pupil premium consistent), under 1% in care, ~1% service children, ~2% leavers, ~93% of
possible sessions present with the attendance codes in force since 19 August 2024, a few suspensions.
"""

from __future__ import annotations

import itertools
import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final, TypeVar

from gateway.mis import codes
from gateway.mis.identifiers import make_upn

__all__ = ["RESOURCE_ORDER", "SchoolSize", "SyntheticSchool", "generate_school"]

RESOURCE_ORDER: Final[tuple[str, ...]] = (
    "school",
    "academic_years",
    "subjects",
    "staff",
    "students",
    "contacts",
    "student_contacts",
    "groups",
    "assessments",
    "results",
    "attendance_sessions",
    "attendance_summaries",
    "exclusions",
)
"""The order a connector pushes the resources in: referenced records first. Groups list pupils and staff, so
they follow them; a pupil's `registration_group_id` is the one reference that points forward."""

MAX_STUDENTS: Final = 10_000
MAX_TERM_DAYS: Final = 70

_T = TypeVar("_T")
Record = dict[str, Any]
_AddGroup = Callable[[str, str, str, Sequence["_Pupil"]], None]


# --- Public API -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolSize:
    """The knobs of a generated school; the default is a secondary of 1,000 pupils with a small sixth form."""

    students: int = 1000
    form_size: int = 30  # pupils per registration group and per core-subject set
    option_group_size: int = 28  # pupils per GCSE option group
    sixth_form_group_size: int = 20  # pupils per A-level group
    pupils_per_staff: int = 12
    teaching_share: float = 0.7  # of staff headcount
    sixth_form_cohort: tuple[float, float] = (0.45, 0.40)  # years 12 and 13, relative to a year 7-11 cohort
    houses: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.students <= MAX_STUDENTS:
            raise ValueError(f"students must be 1 to {MAX_STUDENTS}")
        if min(self.form_size, self.option_group_size, self.sixth_form_group_size, self.pupils_per_staff) < 1:
            raise ValueError("group sizes and pupils per staff must be positive")
        if not 0 < self.teaching_share < 1 or not 1 <= self.houses <= len(_HOUSE_NAMES[0]):
            raise ValueError("teaching_share must be between 0 and 1, houses between 1 and 6")

    def year_sizes(self) -> dict[int, int]:
        """Pupils per national curriculum year 7-13, adding up to `students` (largest remainder)."""
        weights = dict.fromkeys(range(7, 12), 1.0)
        weights[12], weights[13] = self.sixth_form_cohort
        total = sum(weights.values())
        exact = {year: self.students * weight / total for year, weight in weights.items()}
        sizes = {year: math.floor(value) for year, value in exact.items()}
        by_remainder = sorted(exact, key=lambda year: (sizes[year] - exact[year], year))
        for year in by_remainder[: self.students - sum(sizes.values())]:
            sizes[year] += 1
        return sizes

    def staff_counts(self) -> tuple[int, int]:
        """(teaching, support) headcount: about one member of staff per `pupils_per_staff` pupils."""
        total = max(len(_SUBJECTS) + 3, round(self.students / self.pupils_per_staff))
        teaching = max(len(_SUBJECTS) + 1, round(total * self.teaching_share))
        return teaching, max(2, total - teaching)


@dataclass(frozen=True)
class SyntheticSchool:
    """A generated school: the school record and every resource's records, JSON-ready, in RESOURCE_ORDER."""

    school: Record
    records: dict[str, list[Record]]

    def counts(self) -> dict[str, int]:
        """Records per resource, in RESOURCE_ORDER."""
        return {resource: len(self.records[resource]) for resource in RESOURCE_ORDER}


def generate_school(
    seed: int, *, students: int = 1000, today: date, attendance_days: int | None = None
) -> SyntheticSchool:
    """A synthetic school for `seed` as on `today` (academic year, ages, leavers and attendance follow it).

    `attendance_days` is the number of school days of attendance from the start of the autumn term, never on
    or after `today`; by default every such day, at most 70. 0 gives no attendance (fast fixtures).
    """
    if attendance_days is not None and attendance_days < 0:
        raise ValueError("attendance_days must not be negative")
    return _Builder(seed, SchoolSize(students=students), today, attendance_days).build()


# --- Data: the school and where it is -------------------------------------------------------------------

# (LA number, postcode area, highest district used, Ofcom drama dialling prefix, town or None = invented).
# The LA's main postcode area; the dialling prefix is the city's drama range or the no-area 01632 960.
_AREAS: Final[tuple[tuple[str, str, int, str, str | None], ...]] = (
    ("330", "B", 40, "0121 496 0", None),
    ("341", "L", 30, "0151 496 0", None),
    ("352", "M", 40, "0161 496 0", None),
    ("373", "S", 35, "0114 496 0", None),
    ("383", "LS", 28, "0113 496 0", None),
    ("391", "NE", 15, "0191 498 0", None),
    ("801", "BS", 16, "0117 496 0", None),
    ("856", "LE", 5, "0116 496 0", None),
    ("892", "NG", 11, "0115 496 0", None),
    ("870", "RG", 6, "0118 496 0", None),
    ("316", "E", 16, "020 7946 0", "London"),
    ("209", "SE", 28, "020 7946 0", "London"),
    ("380", "BD", 10, "01632 960", None),
    ("831", "DE", 24, "01632 960", None),
    ("331", "CV", 7, "01632 960", None),
    ("861", "ST", 6, "01632 960", None),
    ("816", "YO", 32, "01632 960", None),
    ("874", "PE", 8, "01632 960", None),
    ("810", "HU", 9, "01632 960", None),
    ("851", "PO", 6, "01632 960", None),
    ("852", "SO", 19, "01632 960", None),
    ("879", "PL", 9, "01632 960", None),
    ("886", "ME", 20, "01632 960", None),
    ("926", "NR", 35, "01632 960", None),
    ("935", "IP", 33, "01632 960", None),
    ("873", "CB", 25, "01632 960", None),
    ("925", "LN", 13, "01632 960", None),
    ("888", "PR", 9, "01632 960", None),
    ("878", "EX", 39, "01632 960", None),
    ("916", "GL", 20, "01632 960", None),
    ("931", "OX", 49, "01632 960", None),
    ("336", "WV", 16, "01632 960", None),
    ("384", "WF", 17, "01632 960", None),
    ("382", "HD", 9, "01632 960", None),
    ("356", "SK", 17, "01632 960", None),
    ("846", "BN", 45, "01632 960", None),
    ("940", "NN", 18, "01632 960", None),
    ("885", "WR", 15, "01632 960", None),
    ("894", "TF", 13, "01632 960", None),
    ("896", "CH", 66, "01632 960", None),
    ("895", "CW", 12, "01632 960", None),
    ("808", "TS", 29, "01632 960", None),
    ("841", "DL", 17, "01632 960", None),
    ("942", "CA", 28, "01632 960", None),
)
_MOBILE: Final = "07700 900"
_INWARD_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"  # letters a postcode's inward code may use

_PLACE_HEADS: Final = (
    "Ash", "Bram", "Brack", "Cald", "Elm", "Fern", "Hazel", "Holm", "Kel", "Lark", "Mar", "Oak", "Rad",
    "Thorn", "Wil", "Win", "Whit", "Stan", "Gren", "Hart", "Lin", "Ald", "Mel", "Nor", "Sel", "Wend",
)  # fmt: skip
_PLACE_TAILS: Final = (
    "brook", "bury", "combe", "dale", "field", "ford", "hurst", "ley", "mere", "stead", "ton", "well",
    "wick", "worth", "holt", "bridge",
)  # fmt: skip
_SCHOOL_FEATURES: Final = ("Vale", "Park", "Hill", "Green", "Valley", "Heath", "Moor", "Fields")
_SCHOOL_KINDS: Final = ("Academy", "High School", "School", "Community College", "Academy")
_STREET_HEADS: Final = (
    "Acorn", "Alder", "Beech", "Birch", "Bramble", "Chestnut", "Clover", "Coppice", "Elder", "Fox",
    "Hazel", "Heather", "Holly", "Juniper", "Kestrel", "Larch", "Linden", "Maple", "Meadow", "Mill",
    "Orchard", "Plover", "Rowan", "Sorrel", "Spinney", "Swallow", "Teasel", "Willow", "Wren", "Yew",
)  # fmt: skip
_STREET_TAILS: Final = (
    "Road", "Lane", "Close", "Avenue", "Way", "Drive", "Gardens", "Grove", "Crescent", "Court", "Street",
    "Walk", "Rise", "View",
)  # fmt: skip
_HOUSE_NAMES: Final = (
    ("Alder", "Birch", "Cedar", "Hawthorn", "Rowan", "Willow"),
    ("Kestrel", "Merlin", "Osprey", "Falcon", "Heron", "Swift"),
    ("Avon", "Severn", "Trent", "Tyne", "Wear", "Tamar"),
)

# (code, name, share of teachers). Core subjects are set by ability in years 7-11.
_SUBJECTS: Final = (
    ("EN", "English", 13),
    ("MA", "Mathematics", 13),
    ("SC", "Science", 15),
    ("HI", "History", 6),
    ("GG", "Geography", 6),
    ("FR", "French", 5),
    ("SP", "Spanish", 4),
    ("CO", "Computing", 5),
    ("AR", "Art and Design", 5),
    ("MU", "Music", 3),
    ("DT", "Design and Technology", 5),
    ("DR", "Drama", 3),
    ("PE", "Physical Education", 8),
    ("RE", "Religious Education", 4),
)
_SUBJECT_NAMES: Final = {code: name for code, name, _ in _SUBJECTS}
_CORE: Final = ("EN", "MA", "SC")
_KS4_FORM_SUBJECTS: Final = ("PE", "RE")
_OPTIONS: Final = ("HI", "GG", "FR", "SP", "CO", "AR", "MU", "DT", "DR")
_OPTION_WEIGHTS: Final = (1.5, 1.5, 0.5, 0.5, 3.0, 2.5, 1.0, 2.0, 1.5)
_A_LEVEL_WEIGHTS: Final = {
    "MA": 4.0, "SC": 4.0, "EN": 2.5, "HI": 2.0, "GG": 1.5, "PE": 1.5, "CO": 1.5, "AR": 1.5, "RE": 1.2,
    "FR": 0.6, "SP": 0.6, "DT": 0.8, "DR": 0.8, "MU": 0.4,
}  # fmt: skip
_A_LEVEL_GRADES: Final = ("U", "E", "D", "C", "B", "A", "A*")


# --- Data: people ---------------------------------------------------------------------------------------

# Given names by pool: (girls, boys). Surnames by pool; "english" surnames are built from parts.
_GIVEN: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "english": (
        ("Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia", "Grace",
         "Freya", "Evie", "Poppy", "Ella", "Florence", "Willow", "Phoebe", "Millie", "Sienna", "Ruby",
         "Daisy", "Erin", "Holly", "Imogen", "Lucy", "Chloe", "Megan", "Jessica", "Hannah", "Emily",
         "Charlotte", "Maisie", "Harriet", "Eleanor", "Matilda", "Lola", "Esme", "Abigail", "Bethany"),
        ("Oliver", "George", "Noah", "Jack", "Leo", "Arthur", "Oscar", "Charlie", "Jacob", "Alfie", "Freddie",
         "Thomas", "Theo", "William", "Joshua", "Max", "Archie", "Henry", "Ethan", "Samuel", "Joseph",
         "Lucas", "Isaac", "Finley", "Dylan", "Reuben", "Toby", "Callum", "Lewis", "Owen", "Kieran",
         "Connor", "Benjamin", "Daniel", "Jamie", "Tyler", "Harrison", "Elliot", "Louis", "Nathan"),
    ),
    "english_adult": (
        ("Sarah", "Laura", "Rachel", "Claire", "Kelly", "Gemma", "Lisa", "Nicola", "Hayley", "Joanne",
         "Victoria", "Helen", "Amy", "Natalie", "Rebecca", "Katie", "Louise", "Michelle", "Stacey", "Zoe"),
        ("Mark", "Paul", "Lee", "Craig", "Darren", "Stuart", "Richard", "Andrew", "Gareth", "Neil", "Matthew",
         "Christopher", "Steven", "Simon", "Jason", "Martin", "Carl", "Dean", "Scott", "Robert"),
    ),
    "irish": (
        ("Niamh", "Aoife", "Ciara", "Orla", "Roisin", "Siobhan", "Caitlin", "Eimear"),
        ("Cian", "Oisin", "Ciaran", "Sean", "Eoin", "Padraig", "Declan", "Ronan"),
    ),
    "east_european": (
        ("Zuzanna", "Maja", "Natalia", "Oliwia", "Alicja", "Wiktoria", "Andreea", "Ioana", "Elena",
         "Gabriela", "Emilija", "Viktoria", "Daria", "Kamila"),
        ("Jakub", "Szymon", "Filip", "Kacper", "Mateusz", "Antoni", "Andrei", "Luca", "Matei", "Lukas",
         "Dawid", "Mihai", "Tomas", "Bartosz"),
    ),
    "south_european": (
        ("Beatriz", "Mariana", "Ines", "Leonor", "Giulia", "Lucia", "Carla", "Sofia"),
        ("Tiago", "Rodrigo", "Goncalo", "Diogo", "Matteo", "Pablo", "Hugo", "Marco"),
    ),
    "south_asian_muslim": (
        ("Aisha", "Maryam", "Zainab", "Fatima", "Hafsa", "Amina", "Inaaya", "Sana", "Zara", "Khadija",
         "Iqra", "Hana", "Safa", "Anaya", "Mehreen", "Alisha"),
        ("Muhammad", "Ibrahim", "Yusuf", "Ayaan", "Hamza", "Adam", "Bilal", "Rayan", "Hassan", "Umar",
         "Zakariya", "Idris", "Haroon", "Faisal", "Rehan", "Saif"),
    ),
    "indian": (
        ("Priya", "Anika", "Diya", "Ishani", "Kavya", "Simran", "Harleen", "Jasleen", "Riya", "Meera",
         "Navya", "Tanvi"),
        ("Arjun", "Rohan", "Aarav", "Vihaan", "Kabir", "Jaskaran", "Harvir", "Krish", "Nikhil", "Sai",
         "Ishaan", "Manveer"),
    ),
    "african": (
        ("Chioma", "Amara", "Nia", "Ayomide", "Temi", "Esi", "Abena", "Faith", "Blessing", "Precious",
         "Hodan", "Ifrah", "Adaeze", "Deborah"),
        ("Tobi", "Kwame", "David", "Emmanuel", "Daniel", "Samuel", "Chidi", "Kofi", "Abdi", "Mohamed",
         "Ayo", "Femi", "Joshua", "Nathaniel"),
    ),
    "chinese": (
        ("Mei", "Lin", "Xinyi", "Yuqi", "Jia", "Hui", "Zixuan", "Ling"),
        ("Hao", "Jun", "Wei", "Yichen", "Zihan", "Ming", "Haoran", "Kai"),
    ),
    "arab_kurdish": (
        ("Layla", "Noor", "Yasmin", "Rania", "Dilan", "Shilan", "Lana", "Mariam"),
        ("Omar", "Karim", "Ahmad", "Rezan", "Youssef", "Hussein", "Sami", "Zana"),
    ),
}  # fmt: skip

_SURNAMES: Final[dict[str, tuple[str, ...]]] = {
    "irish": ("Murphy", "Kelly", "O'Brien", "Byrne", "Ryan", "Doyle", "Gallagher", "Quinn", "Brennan"),
    "east_european": ("Nowak", "Mazur", "Krawczyk", "Wojcik", "Popescu", "Ionescu", "Dumitru", "Stan",
                      "Kovacs", "Horvath", "Marin", "Sikora", "Lis", "Baran"),
    "south_european": ("Silva", "Santos", "Ferreira", "Costa", "Oliveira", "Pereira", "Romano", "Greco",
                       "Garcia", "Moreno"),
    "south_asian_muslim": ("Hussain", "Ahmed", "Akhtar", "Iqbal", "Mahmood", "Rahman", "Islam", "Uddin",
                           "Miah", "Shah", "Chowdhury", "Hoque", "Rashid", "Aslam", "Anwar", "Siddiqui"),
    "indian": ("Patel", "Singh", "Kaur", "Sharma", "Gill", "Sandhu", "Mistry", "Parmar", "Chauhan", "Desai",
               "Joshi", "Sidhu", "Bains", "Lad"),
    "african": ("Okafor", "Adeyemi", "Mensah", "Osei", "Adebayo", "Okonkwo", "Asante", "Nwosu", "Eze",
                "Ogunleye", "Abdi", "Warsame", "Owusu", "Nnamdi"),
    "caribbean": ("Campbell", "Williams", "Clarke", "Thompson", "Francis", "Grant", "Morgan", "Reid",
                  "Bailey", "Stewart", "Gordon", "Lewis"),
    "chinese": ("Chen", "Wang", "Zhang", "Liu", "Wong", "Lam", "Cheung", "Ng", "Yang", "Zhou"),
    "arab_kurdish": ("Haddad", "Karimi", "Rahimi", "Saleh", "Aziz", "Mansour", "Khalil", "Jaff"),
}  # fmt: skip
_SURNAME_HEADS: Final = (
    "Ash", "Barn", "Brad", "Brook", "Cal", "Chad", "Cross", "Dun", "Fair", "Fen", "Hal", "Hart", "Hay",
    "Hol", "Kirk", "Lang", "Mar", "Mill", "Mor", "New", "Pen", "Rad", "Ren", "Shep", "Stan", "Thorn",
    "Wake", "Went", "Wes", "Ald", "Bur", "Cot",
)  # fmt: skip
_SURNAME_TAILS: Final = (
    "ley", "ton", "field", "worth", "wood", "ford", "well", "by", "croft", "ridge", "hurst", "combe",
    "stead", "wick", "ham", "lock", "dale", "bury",
)  # fmt: skip
_SHORT_NAMES: Final = {
    "Thomas": "Tom", "Samuel": "Sam", "Joseph": "Joe", "William": "Will", "Daniel": "Dan",
    "Benjamin": "Ben", "Nathaniel": "Nat", "Isabella": "Bella", "Matilda": "Tilly", "Eleanor": "Ellie",
    "Charlotte": "Lottie", "Jessica": "Jess", "Harriet": "Hattie", "Abigail": "Abi", "Muhammad": "Mo",
    "Zuzanna": "Zuza", "Alexander": "Alex", "Zakariya": "Zak", "Nathan": "Nate", "Florence": "Flo",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Heritage:
    """A family background: share of pupils, ethnicity codes, name pools, first languages when EAL."""

    weight: float
    ethnicity: tuple[tuple[str, float], ...]
    names: str
    surnames: str
    eal_share: float = 0.0
    languages: tuple[tuple[str, float], ...] = (("OTH", 1.0),)
    country: str = "GBR"  # ISO 3166-1 alpha-3 country of birth of those born abroad


# Shares close to England's state-secondary ethnicity mix; languages DfE codes (codes.LANGUAGE_CODES).
_HERITAGES: Final[dict[str, _Heritage]] = {
    "white_british": _Heritage(61.5, (("WBRI", 0.92), ("WENG", 0.06), ("WSCO", 0.01), ("WWEL", 0.01)),
                               "english", "english"),
    "irish": _Heritage(0.3, (("WIRI", 1.0),), "irish", "irish", 0.05, (("GAE", 1.0),), "IRL"),
    "traveller": _Heritage(0.1, (("WIRT", 1.0),), "irish", "irish", 0.05, (("TRI", 1.0),)),
    "roma": _Heritage(0.3, (("WROM", 0.7), ("WROR", 0.3)), "east_european", "east_european", 0.6,
                      (("RMI", 0.5), ("RMN", 0.3), ("SLO", 0.2)), "ROU"),
    "polish": _Heritage(3.0, (("WOTH", 0.6), ("WEEU", 0.4)), "east_european", "east_european", 0.75,
                        (("POL", 1.0),), "POL"),
    "romanian": _Heritage(2.0, (("WOTH", 0.6), ("WEEU", 0.4)), "east_european", "east_european", 0.8,
                          (("RMN", 0.9), ("BUL", 0.1)), "ROU"),
    "portuguese": _Heritage(1.0, (("WOTH", 0.7), ("WPOR", 0.3)), "south_european", "south_european", 0.6,
                            (("POR", 0.8), ("PORB", 0.2)), "PRT"),
    "other_white": _Heritage(1.5, (("WOTH", 0.8), ("WITA", 0.1), ("WWEU", 0.1)), "south_european",
                             "south_european", 0.4,
                             (("ITA", 0.3), ("SPA", 0.3), ("LIT", 0.2), ("GER", 0.1), ("FRN", 0.1)), "ITA"),
    "mixed_wbc": _Heritage(1.6, (("MWBC", 1.0),), "english", "caribbean", 0.02),
    "mixed_wba": _Heritage(0.9, (("MWBA", 1.0),), "english", "english", 0.15, (("YOR", 0.5), ("SHO", 0.5))),
    "mixed_was": _Heritage(1.6, (("MWAS", 0.8), ("MWAP", 0.2)), "english", "english", 0.08,
                           (("URD", 0.5), ("PNJ", 0.5))),
    "mixed_other": _Heritage(2.5, (("MOTH", 1.0),), "english", "english", 0.1, (("SPA", 0.5), ("ARA", 0.5))),
    "indian": _Heritage(3.7, (("AIND", 1.0),), "indian", "indian", 0.5,
                        (("GUJ", 0.35), ("PNJ", 0.3), ("TAM", 0.15), ("HIN", 0.1), ("TEL", 0.1)), "IND"),
    "pakistani": _Heritage(4.5, (("APKN", 0.9), ("AMPK", 0.1)), "south_asian_muslim", "south_asian_muslim",
                           0.6, (("URD", 0.5), ("PNJM", 0.3), ("PNJ", 0.2)), "PAK"),
    "bangladeshi": _Heritage(1.9, (("ABAN", 1.0),), "south_asian_muslim", "south_asian_muslim", 0.7,
                             (("BNGS", 0.6), ("BNG", 0.4)), "BGD"),
    "other_asian": _Heritage(2.0, (("AOTH", 0.7), ("ASLT", 0.15), ("ANEP", 0.15)), "indian", "indian", 0.55,
                             (("TAM", 0.5), ("NEP", 0.3), ("TGL", 0.2)), "LKA"),
    "african": _Heritage(4.6, (("BAFR", 0.7), ("BNGN", 0.15), ("BSOM", 0.1), ("BGHA", 0.05)), "african",
                         "african", 0.5, (("YOR", 0.3), ("IGB", 0.2), ("SOM", 0.3), ("AKA", 0.2)), "NGA"),
    "caribbean": _Heritage(1.0, (("BCRB", 1.0),), "english", "caribbean", 0.01),
    "other_black": _Heritage(0.7, (("BOTH", 1.0),), "english", "caribbean", 0.2,
                             (("FRN", 0.5), ("POR", 0.5))),
    "chinese": _Heritage(0.5, (("CHNE", 0.85), ("CHKC", 0.15)), "chinese", "chinese", 0.55,
                         (("CHIC", 0.5), ("CHIM", 0.5)), "CHN"),
    "other": _Heritage(2.2, (("OOTH", 0.6), ("OKRD", 0.2), ("OARA", 0.2)), "arab_kurdish", "arab_kurdish",
                       0.65, (("ARA", 0.4), ("KURS", 0.3), ("PRS", 0.2), ("TUR", 0.1)), "IRQ"),
    "unclassified": _Heritage(1.0, (("REFU", 0.4), ("NOBT", 0.6)), "english", "english"),
}  # fmt: skip
_STAFF_HERITAGE: Final = {
    "white_british": 84.0, "irish": 1.5, "other_white": 3.5, "polish": 0.5, "mixed_other": 1.5,
    "mixed_wbc": 0.5, "indian": 2.0, "pakistani": 1.5, "bangladeshi": 0.5, "african": 1.5, "caribbean": 1.0,
    "chinese": 0.3, "other": 0.5, "unclassified": 1.2,
}  # fmt: skip

# (name, local code, notes, dietary need, weight): the commonest conditions a secondary records.
_CONDITIONS: Final = (
    ("Asthma", "ASTH", "Reliever inhaler carried by the pupil; a spare is kept in the medical room.", None,
     45),
    ("Nut allergy", "ALNUT", "Two adrenaline auto-injectors: one carried, one in the medical room.",
     "Nut free", 12),
    ("Eczema", "ECZ", "Emollient cream may be applied at break.", None, 10),
    ("Hay fever", "HAYF", "Antihistamine in the medical room.", None, 8),
    ("Epilepsy", "EPIL", "Care plan on file; seizure record kept by the school nurse.", None, 5),
    ("Type 1 diabetes", "DIAB1", "Insulin pump; snacks allowed in lessons.", None, 4),
    ("Coeliac disease", "COEL", None, "Gluten free", 4),
    ("Migraine", "MIGR", "May rest in the medical room.", None, 5),
    ("Penicillin allergy", "ALPEN", None, None, 4),
    ("Lactose intolerance", "LACT", None, "Dairy free", 3),
)  # fmt: skip

# SEN type of need weights for rank 1, by provision (round figures for secondary pupils).
_SEN_NEEDS: Final = {
    "K": (("SEMH", 25), ("SPLD", 20), ("MLD", 15), ("SLCN", 12), ("ASD", 10), ("NSA", 5), ("OTH", 4),
          ("HI", 2), ("VI", 1.5), ("PD", 1.5)),
    "E": (("ASD", 35), ("SEMH", 18), ("SLCN", 10), ("MLD", 10), ("SLD", 6), ("SPLD", 5), ("PD", 4),
          ("HI", 3), ("VI", 2), ("PMLD", 1), ("MSI", 0.5), ("DS", 1), ("OTH", 3)),
}  # fmt: skip

_SUSPENSION_REASONS: Final = (
    ("DB", 14), ("LD", 10), ("CB", 10), ("VA", 12), ("PP", 10), ("VP", 6), ("PA", 3), ("DR", 3), ("VR", 4),
    ("DM", 4), ("MP", 4), ("BU", 3), ("OW", 2), ("TH", 2), ("RA", 2), ("SM", 1), ("MT", 3), ("OS", 2),
    ("SR", 1), ("TB", 2), ("AR", 1),
)  # fmt: skip
_PERMANENT_REASONS: Final = (("PA", 3), ("PP", 3), ("OW", 2), ("DR", 2), ("CB", 3))
_LUNCHTIME_REASONS: Final = (("LD", 3), ("CB", 2), ("VP", 2), ("VA", 2), ("PP", 1))
_SUSPENSION_SESSIONS: Final = ((1, 10), (2, 45), (4, 20), (6, 15), (10, 10))
# Relative risk of suspension by sex and year: boys and years 9-10 more, the sixth form far less.
_EXCLUSION_RISK: Final = {
    (gender, year): (2.5 if gender == "M" else 1.0) * (1.5 if year in {9, 10} else 0.2 if year >= 12 else 1.0)
    for gender in ("F", "M")
    for year in range(7, 14)
}

# Single days of other attendance marks (AM, PM) with weights: trips, sport, exceptional leave, festivals.
_OTHER_DAYS: Final[tuple[tuple[tuple[str, str], float], ...]] = (
    (("V", "V"), 30), (("/", "P"), 20), (("B", "B"), 10), (("C", "C"), 15), (("R", "R"), 10),
    (("/", "J1"), 5), (("Y2", "Y2"), 5), (("M", "\\"), 5),
)  # fmt: skip


# --- Small pure helpers ---------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted: Sequence[tuple[_T, float]]) -> _T:
    return rng.choices([item for item, _ in weighted], [weight for _, weight in weighted])[0]


def _sample(rng: random.Random, weighted: Sequence[tuple[_T, float]], k: int) -> list[_T]:
    """k distinct items drawn by weight (fewer if there are fewer items)."""
    pool = list(weighted)
    chosen: list[_T] = []
    while pool and len(chosen) < k:
        index = rng.choices(range(len(pool)), [weight for _, weight in pool])[0]
        chosen.append(pool.pop(index)[0])
    return chosen


def _compound(rng: random.Random, heads: Sequence[str], tails: Sequence[str]) -> str:
    """An invented name from two parts ("Thorn" + "ley"), without a tripled letter ("Crosstead")."""
    head, tail = rng.choice(heads), rng.choice(tails)
    return head + (tail[1:] if head[-1] == tail[0] else tail)


def _slug(text: str) -> str:
    return "".join(char for char in text.lower() if char.isascii() and char.isalnum())


def _academic_year_start(today: date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _autumn_term(year: int) -> list[date]:
    """School days of the autumn term: from 3 September (or the next weekday) to the Friday on or before
    20 December, weekdays only, without October half-term (the week of the last Monday of October)."""
    start = _weekday_on_or_after(date(year, 9, 3))
    end = date(year, 12, 20)
    end -= timedelta(days=(end.weekday() - 4) % 7)
    half_term = date(year, 10, 31) - timedelta(days=date(year, 10, 31).weekday())
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [day for day in days if day.weekday() < 5 and not half_term <= day < half_term + timedelta(days=7)]


def _years_after(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _sen_need(type_code: str, rank: int, start: date) -> Record:
    name = codes.SEN_NEED_TYPE_CODES[type_code]
    return {"type_code": type_code, "type_name": name, "rank": rank, "start_date": start.isoformat()}


def _uln(rng: random.Random) -> str:
    """A Unique Learner Number: ten digits, the first not 0, weights 10..1 summing to 10 mod 11."""
    while True:
        head = str(rng.randrange(100_000_000, 1_000_000_000))
        check = (
            10 - sum(weight * int(digit) for weight, digit in zip(range(10, 1, -1), head, strict=True))
        ) % 11
        if check < 10:
            return head + str(check)


def _nhs_number(rng: random.Random) -> str:
    """An NHS number in the 999 range kept for testing, with its mod-11 check digit."""
    while True:
        head = "999" + f"{rng.randrange(1_000_000):06d}"
        check = (
            11 - sum(weight * int(digit) for weight, digit in zip(range(10, 1, -1), head, strict=True)) % 11
        ) % 11
        if check < 10:
            return head + str(check)


# --- Internal model -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Family:
    heritage: _Heritage
    surname: str
    address: Record
    language: str
    fsm: str  # "now", "past" or "never"
    care: str  # "none", "in_care" or "adopted"
    service: bool
    born_abroad: float
    contacts: list[tuple[str, str, int, bool]] = field(default_factory=list)  # id, relation, priority, PR


@dataclass(slots=True)
class _Pupil:
    key: int
    family: _Family
    year: int
    gender: str
    first: str
    legal_first: str
    middles: str | None
    last: str
    dob: date
    start: date
    upn_bucket: tuple[str, str]  # establishment number and year of issue of the UPN
    ability: float
    conduct: float  # higher means more likely to be suspended
    id: str = ""
    end: date | None = None
    abroad: bool = False
    dual_weekday: int | None = None  # dual registered (main): at the other provider on this weekday
    registration_group_id: str | None = None
    subjects: list[str] = field(default_factory=list)
    upn: str = ""
    former_upn: str | None = None
    sen_provision: str = "N"


@dataclass(slots=True)
class _Teacher:
    id: str
    subject: str | None  # None for support staff
    load: int = 0


class _Builder:
    """Builds one school; each method fills one part, drawing from its own random stream."""

    def __init__(self, seed: int, size: SchoolSize, today: date, attendance_days: int | None) -> None:
        self.seed = seed
        self.size = size
        self.today = today
        self.year = _academic_year_start(today)
        self.ay_start = date(self.year, 9, 1)
        self.ay_end = date(self.year + 1, 8, 31)
        self.ay_id = f"ay-{self.year}"
        self.term_days = [day for day in _autumn_term(self.year) if day < today][:MAX_TERM_DAYS]
        limit = len(self.term_days) if attendance_days is None else attendance_days
        self.window = self.term_days[:limit]
        self.records: dict[str, list[Record]] = {resource: [] for resource in RESOURCE_ORDER}
        self.pupils: list[_Pupil] = []
        self.teachers: list[_Teacher] = []
        self.excluded: dict[str, set[tuple[date, str]]] = {}
        self.used_emails: set[str] = set()

    def _rng(self, part: str) -> random.Random:
        # A string seed is hashed with SHA-512, so each stream is stable across processes and versions.
        return random.Random(f"gateway-synthetic:{self.seed}:{part}")  # noqa: S311 - test data, not secrets

    def build(self) -> SyntheticSchool:
        self._school()
        self._staff()
        self._pupils()
        self._exclusions()
        self._groups()
        self._student_records()
        self._assessments()
        self._attendance()
        return SyntheticSchool(school=self.records["school"][0], records=self.records)

    # --- School, calendar, subjects -------------------------------------------------------------------

    def _school(self) -> None:
        rng = self._rng("school")
        slot = (self.seed * 48_271 + 11) % (len(_AREAS) * 1000)
        self.la_code, self.area, self.districts, self.dial, town = _AREAS[slot % len(_AREAS)]
        self.establishment = f"{4000 + slot // len(_AREAS):04d}"
        urn = f"{900_000 + (self.seed * 7919 + 4321) % 100_000}"
        place = _compound(rng, _PLACE_HEADS, _PLACE_TAILS)
        feature = f" {rng.choice(_SCHOOL_FEATURES)}" if rng.random() < 0.6 else ""
        name = f"{place}{feature} {rng.choice(_SCHOOL_KINDS)}"
        self.town = town or place
        self.district = rng.randint(1, min(self.districts, 20))
        self.nearby_towns = [_compound(rng, _PLACE_HEADS, _PLACE_TAILS) for _ in range(3)]
        feeders = rng.sample(range(2000, 3000), max(6, math.ceil(self.size.students / 120)))
        self.feeders = [f"{number}" for number in sorted(feeders)]  # primaries issued most pupils' UPNs
        self.house_names = rng.choice(_HOUSE_NAMES)[: self.size.houses]
        self.domain = "example.org"
        school = {
            "id": f"sch-{urn}",
            "urn": urn,
            "name": name,
            "la_code": self.la_code,
            "establishment_number": self.establishment,
            "phase": "SS",
            "mis_provider": "Synthetic MIS (gateway demo)",
            "postcode": self._postcode(rng, self.district),
        }
        self.records["school"].append(school)
        for year in (self.year - 1, self.year):
            self.records["academic_years"].append(
                {
                    "id": f"ay-{year}",
                    "name": f"{year}/{(year + 1) % 100:02d}",
                    "start_date": date(year, 9, 1).isoformat(),
                    "end_date": date(year + 1, 8, 31).isoformat(),
                }
            )
        for code, subject, _ in _SUBJECTS:
            self.records["subjects"].append({"id": f"sub-{code}", "code": code, "name": subject})

    def _postcode(self, rng: random.Random, district: int) -> str:
        inward = f"{rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        return f"{self.area}{district} {inward}"

    def _address(self, rng: random.Random) -> Record:
        district = min(self.districts, max(1, self.district + rng.randint(-3, 3)))
        street = f"{rng.choice(_STREET_HEADS)} {rng.choice(_STREET_TAILS)}"
        address: Record = {"line1": f"{rng.randint(1, 160)} {street}"}
        if rng.random() < 0.12:
            address = {"line1": f"Flat {rng.randint(1, 24)}", "line2": f"{rng.randint(1, 60)} {street}"}
        town = self.town if rng.random() < 0.8 else rng.choice(self.nearby_towns)
        address.update(town=town, postcode=self._postcode(rng, district))
        return address

    def _phone(self, rng: random.Random, kind: str) -> str:
        prefix = {"mobile": _MOBILE, "home": self.dial}.get(kind, "01632 960")
        return f"{prefix}{rng.randrange(1000):03d}"

    def _email(self, local: str, domain: str) -> str:
        candidate, suffix = f"{local}@{domain}", 1
        while candidate in self.used_emails:
            suffix += 1
            candidate = f"{local}{suffix}@{domain}"
        self.used_emails.add(candidate)
        return candidate

    def _name(self, rng: random.Random, pool: str, surnames: str, gender: str) -> tuple[str, str]:
        girls, boys = _GIVEN[pool]
        first = rng.choice(girls if gender == "F" else boys)
        return first, self._surname(rng, surnames)

    def _surname(self, rng: random.Random, pool: str) -> str:
        if pool == "english":
            return _compound(rng, _SURNAME_HEADS, _SURNAME_TAILS)
        return rng.choice(_SURNAMES[pool])

    # --- Staff ----------------------------------------------------------------------------------------

    def _staff(self) -> None:
        rng = self._rng("staff")
        teaching, support = self.size.staff_counts()
        weights = {code: float(share) for code, _, share in _SUBJECTS}
        subjects = list(weights)  # every subject has at least one teacher
        subjects += [_pick(rng, list(weights.items())) for _ in range(teaching - len(weights))]
        codes_used: set[str] = set()
        for number, subject in enumerate([*sorted(subjects, key=list(weights).index), *[None] * support], 1):
            staff_id = f"stf-{number:06d}"
            self.teachers.append(_Teacher(staff_id, subject))
            self.records["staff"].append(self._staff_record(rng, staff_id, number, subject, codes_used))

    def _staff_record(
        self, rng: random.Random, staff_id: str, number: int, subject: str | None, codes_used: set[str]
    ) -> Record:
        heritage_key = _pick(rng, list(_STAFF_HERITAGE.items()))
        heritage = _HERITAGES[heritage_key]
        gender = "F" if rng.random() < 0.64 else "M"
        pool = "english_adult" if heritage.names == "english" else heritage.names
        first, last = self._name(rng, pool, heritage.surnames, gender)
        teaching = subject is not None
        age = rng.randint(23, 62) if teaching else rng.randint(18, 65)
        dob = self.today - timedelta(days=age * 365 + rng.randrange(365))
        earliest = max(_years_after(dob, 22 if teaching else 17), date(self.year - 25, 9, 1))
        start = earliest + timedelta(days=rng.randrange(max(1, (self.ay_start - earliest).days)))
        if rng.random() < 0.08:
            start = self.term_days[0] if self.term_days else self.ay_start
        code = (first[0] + _slug(last)[:2]).upper()
        if code in codes_used:
            code = next(f"{code}{n}" for n in range(2, 100) if f"{code}{n}" not in codes_used)
        codes_used.add(code)
        if gender == "F":
            title = _pick(rng, (("Mrs", 50), ("Ms", 30), ("Miss", 15), ("Dr", 5)))
        else:
            title = _pick(rng, (("Mr", 95), ("Dr", 5)))
        return {
            "id": staff_id,
            "mis_id": f"E{number:05d}",
            "staff_code": code,
            "title": title,
            "first_name": first,
            "last_name": last,
            "work_email": self._email(f"{_slug(first)[0]}.{_slug(last)}", self.domain),
            "is_teaching_staff": teaching,
            "start_date": start.isoformat(),
            "dob": dob.isoformat(),
            "gender": gender,
            "ethnicity_code": _pick(rng, heritage.ethnicity),
            "disability": rng.random() < 0.04,
            "home_address": self._address(rng),
            "personal_phone": self._phone(rng, "mobile"),
        }

    # --- Families and pupils --------------------------------------------------------------------------

    def _pupils(self) -> None:
        rng = self._rng("pupils")
        remaining = self.size.year_sizes()
        heritages = [(heritage, heritage.weight) for heritage in _HERITAGES.values()]
        families: list[_Family] = []
        pupils: list[_Pupil] = []
        while sum(remaining.values()):
            family = self._family(rng, _pick(rng, heritages))
            families.append(family)
            children = 1 if family.care == "in_care" else _pick(rng, ((1, 84), (2, 14), (3, 2)))
            taken: list[int] = []
            for _ in range(children):
                open_years = [
                    (year, float(left)) for year, left in remaining.items() if left and year not in taken
                ]
                if not open_years:
                    break
                year = _pick(rng, open_years)
                remaining[year] -= 1
                taken.append(year)
                pupils.append(self._pupil(rng, family, year, len(pupils)))
        pupils.sort(key=lambda pupil: (pupil.year, pupil.last, pupil.first, pupil.key))
        for number, pupil in enumerate(pupils, 1):
            pupil.id = f"stu-{number:06d}"
        self.pupils = pupils
        self._leavers(rng)
        self._upns(rng)
        self._contacts(families)

    def _family(self, rng: random.Random, heritage: _Heritage) -> _Family:
        english = codes.is_english_language_code
        language = _pick(rng, heritage.languages) if rng.random() < heritage.eal_share else "ENG"
        if heritage.surnames == "english" and language == "ENG" and rng.random() < 0.01:
            language = "ENB"
        roll = rng.random()
        care = "in_care" if roll < 0.006 else "adopted" if roll < 0.02 else "none"
        roll = rng.random()
        fsm = "never" if care == "in_care" else "now" if roll < 0.25 else "past" if roll < 0.32 else "never"
        return _Family(
            heritage=heritage,
            surname=self._surname(rng, heritage.surnames),
            address=self._address(rng),
            language=language,
            fsm=fsm,
            care=care,
            service=rng.random() < 0.01,
            born_abroad=0.0 if english(language) or heritage.country == "GBR" else 0.45,
        )

    def _pupil(self, rng: random.Random, family: _Family, year: int, key: int) -> _Pupil:
        heritage = family.heritage
        gender = "F" if rng.random() < 0.49 else "M"
        first, _ = self._name(rng, heritage.names, heritage.surnames, gender)
        girls, boys = _GIVEN[heritage.names]
        middles = rng.choice(girls if gender == "F" else boys) if rng.random() < 0.6 else None
        last = self._surname(rng, heritage.surnames) if family.care == "in_care" else family.surname
        born_from = date(self.year - year - 5, 9, 1)
        dob = born_from + timedelta(days=rng.randrange(365))
        reception_year = self.year - year
        start = _weekday_on_or_after(date(self.year - (year - 7), 9, 3))
        bucket = (rng.choice(self.feeders), f"{reception_year % 100:02d}")
        if year >= 12 and rng.random() < 0.35:  # joined the sixth form from another school
            start = _weekday_on_or_after(date(self.year - (year - 12), 9, 3))
        ability, conduct = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
        pupil = _Pupil(
            key, family, year, gender, first, first, middles, last, dob, start, bucket, ability, conduct
        )
        pupil.abroad = rng.random() < family.born_abroad
        joined = rng.random()
        if (pupil.abroad and joined < 0.5) or joined < 0.06:  # joined mid-phase, some straight from abroad
            self._join_later(rng, pupil, start)
        if 9 <= year <= 11 and rng.random() < 0.004:
            pupil.dual_weekday = rng.randrange(5)
        if first in _SHORT_NAMES and rng.random() < 0.3:
            pupil.first = _SHORT_NAMES[first]
        return pupil

    def _join_later(self, rng: random.Random, pupil: _Pupil, lower: date) -> None:
        """Move a pupil's start to a later school day; newly arrived pupils get a UPN from this school."""
        upper = self.term_days[-1] if self.term_days else self.ay_start
        if (upper - lower).days > 1:
            pupil.start = _weekday_on_or_after(lower + timedelta(days=rng.randrange((upper - lower).days)))
            if pupil.start > upper:
                pupil.start = lower
        if pupil.abroad:
            pupil.upn_bucket = (self.establishment, f"{pupil.start.year % 100:02d}")

    def _leavers(self, rng: random.Random) -> None:
        """About 1.7% left: on a school day of this term, or (early in September) at the end of last year."""
        last_summer = date(self.year, 7, 20) - timedelta(days=(date(self.year, 7, 20).weekday() - 4) % 7)
        candidates = [
            pupil for pupil in self.pupils if pupil.start < self.ay_start and pupil.year in range(8, 14)
        ]
        for pupil in rng.sample(candidates, min(len(candidates), round(len(self.pupils) * 0.017))):
            pupil.end = rng.choice(self.term_days) if self.term_days else last_summer
            if pupil.end < pupil.start:
                pupil.end = None

    def _upns(self, rng: random.Random) -> None:
        """Distinct UPNs: each (issuing school, year of issue) gets random distinct 3-digit serials."""
        adopted = [pupil for pupil in self.pupils if pupil.family.care == "adopted" and rng.random() < 0.4]
        buckets: dict[tuple[str, str], list[tuple[_Pupil, bool]]] = {}
        for pupil in self.pupils:
            buckets.setdefault(pupil.upn_bucket, []).append((pupil, False))
        for pupil in adopted:  # a new UPN after adoption; the old one is the former UPN
            buckets.setdefault((rng.choice(self.feeders), pupil.upn_bucket[1]), []).append((pupil, True))
        for (establishment, year2), holders in sorted(buckets.items(), key=lambda item: item[0]):
            serials = sorted(rng.sample(range(1, 1000), len(holders)))
            for (pupil, former), serial in zip(holders, serials, strict=True):
                upn = make_upn(self.la_code, establishment, year2, f"{serial:03d}")
                if former:
                    pupil.former_upn = upn
                else:
                    pupil.upn = upn

    def _contacts(self, families: list[_Family]) -> None:
        rng = self._rng("contacts")
        for family in families:
            for relation, priority, responsibility, gender, surname in self._relations(rng, family):
                contact_id = f"con-{len(self.records['contacts']) + 1:06d}"
                family.contacts.append((contact_id, relation, priority, responsibility))
                self.records["contacts"].append(
                    self._contact(rng, contact_id, family, gender, surname, relation)
                )
        links = self.records["student_contacts"]
        for pupil in self.pupils:
            for contact_id, relation, priority, responsibility in pupil.family.contacts:
                links.append(
                    {
                        "id": f"stc-{len(links) + 1:06d}",
                        "student_id": pupil.id,
                        "contact_id": contact_id,
                        "relationship_type": relation,
                        "priority": priority,
                        "parental_responsibility": responsibility,
                    }
                )

    def _relations(self, rng: random.Random, family: _Family) -> list[tuple[str, int, bool, str, str]]:
        """(relationship, priority, parental responsibility, gender, surname) of a family's 1-2 contacts."""
        pool = family.heritage.surnames
        if family.care == "in_care":
            carer = _pick(rng, (("F", 3), ("M", 1)))
            return [
                ("Foster carer", 1, False, carer, self._surname(rng, "english")),
                ("Social worker", 2, False, _pick(rng, (("F", 3), ("M", 1))), self._surname(rng, "english")),
            ]
        mother_surname = family.surname if rng.random() < 0.75 else self._surname(rng, pool)
        shape = rng.random()
        if shape < 0.2:  # one contact
            if rng.random() < 0.85:
                return [("Mother", 1, True, "F", family.surname)]
            relation = _pick(rng, (("Father", 3), ("Grandmother", 1)))
            return [(relation, 1, relation == "Father", "M" if relation == "Father" else "F", family.surname)]
        second = _pick(rng, (("Father", 82), ("Step-father", 8), ("Grandmother", 6), ("Aunt", 4)))
        second_gender = "M" if second in {"Father", "Step-father"} else "F"
        second_surname = family.surname if second == "Father" else self._surname(rng, pool)
        mother_first = rng.random() < 0.7
        second_responsibility = second == "Father" and rng.random() < 0.95
        return [
            ("Mother", 1 if mother_first else 2, True, "F", mother_surname),
            (second, 2 if mother_first else 1, second_responsibility, second_gender, second_surname),
        ]

    def _contact(
        self, rng: random.Random, contact_id: str, family: _Family, gender: str, surname: str, relation: str
    ) -> Record:
        names = family.heritage.names
        pool = (
            "english_adult" if names == "english" or relation in {"Foster carer", "Social worker"} else names
        )
        girls, boys = _GIVEN[pool]
        first = rng.choice(girls if gender == "F" else boys)
        title = _pick(rng, (("Mrs", 55), ("Ms", 30), ("Miss", 12), ("Dr", 3))) if gender == "F" else "Mr"
        phones = []
        if rng.random() < 0.95:
            phones.append({"type": "mobile", "number": self._phone(rng, "mobile")})
        if rng.random() < 0.35 or not phones:
            phones.append({"type": "home", "number": self._phone(rng, "home")})
        if rng.random() < 0.25 or relation == "Social worker":
            phones.append({"type": "work", "number": self._phone(rng, "work")})
        contact: Record = {"id": contact_id, "title": title, "first_name": first, "last_name": surname}
        if relation == "Social worker":
            contact["emails"] = [self._email(f"{_slug(first)}.{_slug(surname)}", "example.org")]
        elif rng.random() < 0.9:
            contact["emails"] = [
                self._email(f"{_slug(first)}.{_slug(surname)}{rng.randrange(100)}", "example.com")
            ]
        contact["telephone_numbers"] = phones
        separated = relation in {"Father", "Step-father"} and rng.random() < 0.15
        if relation in {"Mother", "Father", "Step-father", "Foster carer"} and not separated:
            contact["address"] = dict(family.address)
        else:
            contact["address"] = self._address(rng)
        return contact

    # --- Exclusions (before groups: a permanent exclusion takes a pupil off roll) -------------------------

    def _exclusions(self) -> None:
        rng = self._rng("exclusions")
        days = self.term_days
        if len(days) < 3:
            return
        share = len(days) / MAX_TERM_DAYS
        on_roll = [pupil for pupil in self.pupils if pupil.end is None and pupil.start <= days[0]]
        weights = [math.exp(pupil.conduct) * _EXCLUSION_RISK[pupil.gender, pupil.year] for pupil in on_roll]
        if not on_roll:
            return
        busy: dict[str, set[int]] = {}
        plans = [
            ("PERM", 1 if len(on_roll) >= 500 and len(days) >= 20 else round(len(on_roll) * 0.001 * share))
        ]
        plans += [("FIXD", round(len(on_roll) * 0.04 * share)), ("LNCH", round(len(on_roll) * 0.01 * share))]
        for kind, count in plans:
            for _ in range(count):
                pupil = rng.choices(on_roll, weights)[0]
                if pupil.end is not None:  # permanently excluded already
                    continue
                self._exclusion(rng, kind, pupil, busy.setdefault(pupil.id, set()))

    def _exclusion(self, rng: random.Random, kind: str, pupil: _Pupil, busy: set[int]) -> None:
        days = self.term_days
        sessions = 1 if kind == "LNCH" else 12 if kind == "PERM" else _pick(rng, _SUSPENSION_SESSIONS)
        span = max(1, sessions // 2)
        free = [i for i in range(len(days) - span) if not busy & set(range(i, i + span))]
        if not free:
            return
        first = rng.choice(free)
        busy.update(range(first, first + span))
        reasons = {"PERM": _PERMANENT_REASONS, "LNCH": _LUNCHTIME_REASONS}.get(kind, _SUSPENSION_REASONS)
        record: Record = {
            "id": f"exc-{len(self.records['exclusions']) + 1:06d}",
            "student_id": pupil.id,
            "exclusion_type": kind,
            "reason_codes": _sample(rng, reasons, _pick(rng, ((1, 70), (2, 25), (3, 5)))),
            "start_date": days[first].isoformat(),
        }
        marked: list[tuple[date, str]] = []
        if kind == "LNCH":
            record.update(end_date=days[first].isoformat(), length_sessions=1)
        elif sessions == 1:
            half = rng.choice(("AM", "PM"))
            record.update(start_session=half, end_date=days[first].isoformat(), end_session=half)
            record["length_sessions"] = 1
            marked.append((days[first], half))
        else:
            end = days[first + span - 1]
            record.update(start_session="AM", end_date=end.isoformat(), end_session="PM")
            marked += [(days[i], half) for i in range(first, first + span) for half in ("AM", "PM")]
            if kind == "PERM":
                pupil.end = end  # off roll once the exclusion takes effect
            else:
                record["length_sessions"] = sessions
        self.excluded.setdefault(pupil.id, set()).update(marked)
        self.records["exclusions"].append(record)

    # --- Groups ---------------------------------------------------------------------------------------

    def _groups(self) -> None:
        rng = self._rng("groups")
        current = [pupil for pupil in self.pupils if pupil.end is None or pupil.end >= self.today]
        teachers = [teacher for teacher in self.teachers if teacher.subject is not None]
        pastoral = teachers[:]
        rng.shuffle(pastoral)
        tutors = itertools.cycle(pastoral)  # heads of house and year, then form tutors
        houses = [
            self._group(
                "house", f"grp-house-{_slug(name)}", f"{name} House", name[:3].upper(), None, [next(tutors)]
            )
            for name in self.house_names
        ]
        dated = {
            "academic_year_id": self.ay_id,
            "start_date": self.ay_start.isoformat(),
            "end_date": self.ay_end.isoformat(),
        }
        for year in range(7, 14):
            cohort = [pupil for pupil in current if pupil.year == year]
            if not cohort:
                continue
            year_group = self._group(
                "year", f"grp-year-{year}", f"Year {year}", str(year), None, [next(tutors)]
            )
            year_group.update(dated)
            year_group["student_ids"] = [pupil.id for pupil in cohort]
            forms = self._split_forms(rng, cohort, year)
            for letter, members in forms.items():
                name = f"{year}{letter}"
                form = self._group("registration", f"grp-reg-{name}", name, name, None, [next(tutors)])
                form.update(dated, student_ids=[pupil.id for pupil in members])
                for pupil in members:
                    pupil.registration_group_id = form["id"]
            self._teaching_groups(rng, year, cohort, forms, dated)
        # Houses are kept the same size; siblings share a house, as in most house systems.
        family_house: dict[int, Record] = {}
        for pupil in current:
            house = family_house.setdefault(
                id(pupil.family), min(houses, key=lambda house: (len(house["student_ids"]), house["id"]))
            )
            house["student_ids"].append(pupil.id)

    def _group(
        self, kind: str, group_id: str, name: str, code: str, subject: str | None, staff: list[_Teacher]
    ) -> Record:
        group: Record = {"id": group_id, "type": kind, "name": name, "code": code}
        if subject is not None:
            group["subject_id"] = f"sub-{subject}"
        group["supervisor_staff_ids"] = list(dict.fromkeys(teacher.id for teacher in staff))
        group["student_ids"] = []
        self.records["groups"].append(group)
        return group

    def _split_forms(self, rng: random.Random, cohort: list[_Pupil], year: int) -> dict[str, list[_Pupil]]:
        count = math.ceil(len(cohort) / self.size.form_size)
        letters = "ABCDEFGHJKLMNPRSTUVWXY" * (count // 22 + 1)
        order = sorted(cohort, key=lambda pupil: (pupil.gender, rng.random()))
        forms: dict[str, list[_Pupil]] = {}
        for index, pupil in enumerate(order):
            suffix = letters[index % count] + ("" if count <= 22 else str(index % count // 22 + 1))
            forms.setdefault(suffix, []).append(pupil)
        return dict(sorted(forms.items()))

    def _teacher_of(self, subject: str) -> _Teacher:
        teacher = min((t for t in self.teachers if t.subject == subject), key=lambda t: (t.load, t.id))
        teacher.load += 1
        return teacher

    def _teaching_groups(
        self,
        rng: random.Random,
        year: int,
        cohort: list[_Pupil],
        forms: dict[str, list[_Pupil]],
        dated: Record,
    ) -> None:
        def add(subject: str, code: str, name: str, members: Sequence[_Pupil]) -> None:
            group = self._group(
                "teaching", f"grp-tch-{code}", name, code, subject, [self._teacher_of(subject)]
            )
            group.update(dated, student_ids=sorted(pupil.id for pupil in members))
            for pupil in members:
                pupil.subjects.append(subject)

        if year >= 12:
            choices: dict[str, list[_Pupil]] = {}
            for pupil in cohort:
                for subject in _sample(rng, list(_A_LEVEL_WEIGHTS.items()), 3):
                    choices.setdefault(subject, []).append(pupil)
            self._option_groups(add, year, choices, self.size.sixth_form_group_size)
            return
        for subject in _CORE:
            ranked = sorted(cohort, key=lambda pupil: (-(pupil.ability + rng.gauss(0.0, 0.4)), pupil.id))
            sets = len(forms)
            for number in range(sets):
                members = ranked[number * len(ranked) // sets : (number + 1) * len(ranked) // sets]
                name = f"Year {year} {_SUBJECT_NAMES[subject]} set {number + 1}"
                add(subject, f"{year}{subject}{number + 1}", name, members)
        form_subjects = [code for code, _, _ in _SUBJECTS if code not in _CORE]
        if year >= 10:
            form_subjects = list(_KS4_FORM_SUBJECTS)
            choices = {}
            options = list(zip(_OPTIONS, _OPTION_WEIGHTS, strict=True))
            for pupil in cohort:
                chosen = [rng.choice(("HI", "GG"))] if rng.random() < 0.9 else []
                if rng.random() < 0.45:
                    chosen.append(rng.choice(("FR", "SP")))
                chosen += _sample(
                    rng, [option for option in options if option[0] not in chosen], 4 - len(chosen)
                )
                for subject in chosen:
                    choices.setdefault(subject, []).append(pupil)
            self._option_groups(add, year, choices, self.size.option_group_size)
        for letter, members in forms.items():
            for subject in form_subjects:
                add(
                    subject, f"{year}{letter}-{subject}", f"{year}{letter} {_SUBJECT_NAMES[subject]}", members
                )

    def _option_groups(self, add: _AddGroup, year: int, choices: dict[str, list[_Pupil]], size: int) -> None:
        for subject in sorted(choices, key=list(_SUBJECT_NAMES).index):
            takers = choices[subject]
            count = math.ceil(len(takers) / size)
            for number in range(count):
                members = takers[number * len(takers) // count : (number + 1) * len(takers) // count]
                name = f"Year {year} {_SUBJECT_NAMES[subject]} group {number + 1}"
                add(subject, f"{year}{subject}{number + 1}", name, members)

    # --- Student records ------------------------------------------------------------------------------

    def _student_records(self) -> None:
        rng = self._rng("students")
        ulns: set[str] = set()
        for pupil in self.pupils:
            self.records["students"].append(self._student(rng, pupil, ulns))

    def _student(self, rng: random.Random, pupil: _Pupil, ulns: set[str]) -> Record:
        family = pupil.family
        heritage = family.heritage
        year_code = pupil.year - 1 if pupil.end is not None and pupil.end < self.ay_start else pupil.year
        entry = pupil.start.year % 100
        record: Record = {
            "id": pupil.id,
            "mis_id": f"{pupil.start.year}{pupil.key + 1:05d}",
            "first_name": pupil.first,
            "last_name": pupil.last,
            "year_code": str(year_code),
        }
        if pupil.registration_group_id is not None:
            record["registration_group_id"] = pupil.registration_group_id
        record["start_date"] = pupil.start.isoformat()
        if pupil.end is not None:
            record["end_date"] = pupil.end.isoformat()
        # Leavers keep the status they had on roll, as the census leavers' module returns it.
        record["enrolment_status"] = "C" if pupil.dual_weekday is None else "M"
        record["upn"] = pupil.upn
        if pupil.former_upn is not None:
            record["former_upn"] = pupil.former_upn
        if year_code >= 10 and rng.random() < 0.95:
            uln = _uln(rng)
            while uln in ulns:
                uln = _uln(rng)
            ulns.add(uln)
            record["uln"] = uln
        record["pan"] = f"{pupil.start.year}/{pupil.key + 1:04d}"
        record["legal_first_name"] = pupil.legal_first
        record["legal_last_name"] = pupil.last
        if pupil.middles is not None:
            record["middle_names"] = pupil.middles
        if family.care == "adopted" and rng.random() < 0.5:
            record["former_last_name"] = self._surname(rng, heritage.surnames)
        record["dob"] = pupil.dob.isoformat()
        record["gender"] = pupil.gender
        record["email"] = self._email(f"{entry:02d}{_slug(pupil.last)}{_slug(pupil.first)[0]}", self.domain)
        record["address"] = dict(family.address)
        ethnicity = _pick(rng, heritage.ethnicity)
        record["ethnicity_code"] = ethnicity
        group = codes.ethnicity_group(ethnicity)
        if group is not None:
            record["ethnicity_group"] = group.value
        english = codes.is_english_language_code(family.language)
        record["first_language_code"] = family.language
        record["home_language_code"] = family.language
        if english is not None:
            record["is_eal"] = not english
        if english is False:
            proficiency = (("A", 3), ("B", 7), ("C", 15), ("D", 25), ("E", 45), ("N", 5))
            record["proficiency_in_english"] = _pick(rng, proficiency)
        if pupil.abroad:
            record["nationalities"] = [heritage.country] + (["GBR"] if rng.random() < 0.2 else [])
            record["country_of_birth"] = heritage.country
        else:
            second = [heritage.country] if heritage.country != "GBR" and rng.random() < 0.25 else []
            record["nationalities"] = ["GBR", *second]
            record["country_of_birth"] = "GBR"
        record.update(self._fsm(rng, pupil))
        record["in_care"] = family.care == "in_care"
        record["ever_in_care"] = family.care != "none"
        record["service_child"] = family.service
        record.update(self._sen(rng, pupil))
        record.update(self._medical(rng, pupil))
        return record

    def _fsm(self, rng: random.Random, pupil: _Pupil) -> Record:
        """FSM now (an open period), FSM6 (a period in the last six years) and pupil premium (years 7-11)."""
        family = pupil.family
        eligible_from = _years_after(pupil.dob, 5)
        six_years_ago = _years_after(self.today, -6)
        periods: list[Record] = []
        if family.fsm == "now":
            start = eligible_from + timedelta(
                days=rng.randrange(max(1, (self.today - eligible_from).days - 30))
            )
            if rng.random() < 0.15 and (start - eligible_from).days > 400:
                earlier = eligible_from + timedelta(days=rng.randrange((start - eligible_from).days - 200))
                periods.append(
                    {
                        "start_date": earlier.isoformat(),
                        "end_date": (earlier + timedelta(days=180)).isoformat(),
                    }
                )
            periods.append({"start_date": start.isoformat()})
        elif family.fsm == "past":
            low = max(eligible_from, six_years_ago)
            end = low + timedelta(days=rng.randrange(max(1, (self.today - low).days - 1)))
            start = max(eligible_from, end - timedelta(days=rng.randint(90, 900)))
            periods.append({"start_date": start.isoformat(), "end_date": end.isoformat()})
        fsm = family.fsm == "now"
        fsm6 = family.fsm != "never"
        pp = pupil.year <= 11 and (fsm6 or family.care != "none")
        record: Record = {"is_fsm": fsm, "is_fsm6": fsm6, "fsm_periods": periods}
        if fsm and rng.random() < 0.4:
            record["fsm_review_date"] = (self.today + timedelta(days=rng.randint(30, 365))).isoformat()
        record["is_pp"] = pp
        record["pp_periods"] = (
            [{"start_date": self.ay_start.isoformat(), "end_date": self.ay_end.isoformat()}] if pp else []
        )
        return record

    def _sen(self, rng: random.Random, pupil: _Pupil) -> Record:
        roll = rng.random() * (0.75 if pupil.gender == "M" else 1.3)
        provision = "E" if roll < 0.025 else "K" if roll < 0.155 else "N"
        pupil.sen_provision = provision
        if provision == "N":
            return {"sen_provision": "N", "sen_needs": []}
        earliest = _years_after(pupil.dob, 5)
        start = earliest + timedelta(days=rng.randrange(max(1, (self.today - earliest).days)))
        first = _pick(rng, _SEN_NEEDS[provision])
        needs = [_sen_need(first, 1, start)]
        if first != "NSA" and rng.random() < 0.3:
            second = _pick(
                rng, [(code, weight) for code, weight in _SEN_NEEDS[provision] if code not in {first, "NSA"}]
            )
            needs.append(_sen_need(second, 2, start))
        return {"sen_provision": provision, "sen_needs": needs}

    def _medical(self, rng: random.Random, pupil: _Pupil) -> Record:
        conditions: list[Record] = []
        dietary: list[str] = []
        if rng.random() < 0.1:
            weighted = [(condition, float(condition[4])) for condition in _CONDITIONS]
            for name, code, notes, diet, _ in _sample(rng, weighted, 2 if rng.random() < 0.15 else 1):
                condition: Record = {"code": code, "name": name}
                if notes is not None:
                    condition["notes"] = notes
                conditions.append(condition)
                if diet is not None:
                    dietary.append(diet)
        if rng.random() < 0.04:
            dietary.append("Vegetarian")
        record: Record = {
            "medical_conditions": conditions,
            "dietary_needs": dietary,
            "has_emergency_consent": rng.random() < 0.96,
        }
        if conditions or rng.random() < 0.15:
            record["nhs_number"] = _nhs_number(rng)
        return record

    # --- Assessments and results ----------------------------------------------------------------------

    def _assessments(self) -> None:
        rng = self._rng("results")
        y = self.year
        half_term = date(y, 10, 31) - timedelta(days=date(y, 10, 31).weekday())
        last, this = f"{y - 1}/{y % 100:02d}", f"{y}/{(y + 1) % 100:02d}"
        wag, atl = "Working-at grade", "Attitude to learning"
        # (id, name, family, collection date, whether it belongs to last academic year); only those collected
        # by today exist: an MIS creates an assessment when its data collection opens.
        plan = [
            (f"asm-{y - 1}-su-wag", f"{last} Summer working-at grade", wag, date(y, 7, 10), True),
            (
                f"asm-{y}-a1-wag",
                f"{this} Autumn 1 working-at grade",
                wag,
                half_term - timedelta(days=3),
                False,
            ),
            (
                f"asm-{y}-a1-atl",
                f"{this} Autumn 1 attitude to learning",
                atl,
                half_term - timedelta(days=3),
                False,
            ),
            (f"asm-{y}-a2-wag", f"{this} Autumn 2 working-at grade", wag, date(y, 12, 12), False),
        ]
        aptitude: dict[tuple[str, str], float] = {}
        results = self.records["results"]
        for assessment_id, name, family, when, last_year in plan:
            if when > self.today:
                continue
            self.records["assessments"].append({"id": assessment_id, "name": name, "family": family})
            for pupil in self.pupils:
                year = pupil.year - 1 if last_year else pupil.year
                on_roll = pupil.start <= when and (pupil.end is None or pupil.end >= when)
                if not on_roll or (last_year and pupil.year in {7, 12}):
                    continue
                for subject in pupil.subjects:
                    key = (pupil.id, subject)
                    if key not in aptitude:
                        aptitude[key] = pupil.ability + rng.gauss(0.0, 0.6)
                    grade = self._grade(rng, family, year, aptitude[key], pupil.conduct)
                    results.append(
                        {
                            "id": f"res-{len(results) + 1:07d}",
                            "student_id": pupil.id,
                            "assessment_id": assessment_id,
                            "subject_id": f"sub-{subject}",
                            "grade": grade,
                            "result_date": when.isoformat(),
                        }
                    )

    @staticmethod
    def _grade(rng: random.Random, family: str, year: int, aptitude: float, conduct: float) -> str:
        if family == "Attitude to learning":  # 1 excellent ... 4 causing concern
            return str(min(4, max(1, round(2.0 + 0.6 * conduct - 0.3 * aptitude + rng.gauss(0.0, 0.5)))))
        if year >= 12:
            index = round(3.6 + 1.3 * aptitude + rng.gauss(0.0, 0.5))
            return _A_LEVEL_GRADES[min(len(_A_LEVEL_GRADES) - 1, max(0, index))]
        expected = {7: 3.0, 8: 3.5, 9: 4.0, 10: 4.5, 11: 5.0}.get(year, 5.0)
        return str(min(9, max(1, round(expected + 1.6 * aptitude + rng.gauss(0.0, 0.5)))))

    # --- Attendance -----------------------------------------------------------------------------------

    def _attendance(self) -> None:
        rng = self._rng("attendance")
        days = self.window
        iso = [day.isoformat() for day in days]
        compact = [day.strftime("%Y%m%d") for day in days]
        sessions = self.records["attendance_sessions"]
        for pupil in self.pupils:
            first = bisect_left(days, pupil.start)
            last = len(days) if pupil.end is None else bisect_right(days, pupil.end)
            if first >= last:
                continue
            late = (
                0.03 * rng.lognormvariate(0.0, 1.0) / 1.65
            )  # this pupil's chance of being late in the morning
            counts = dict.fromkeys(("possible", "attended", "late", "authorised", "unauthorised"), 0)
            for i, am, pm in self._register(rng, pupil, first, last):
                for half, mark in (("AM", am), ("PM", pm)):
                    record: Record = {
                        "id": f"att-{pupil.id[4:]}-{compact[i]}-{half}",
                        "student_id": pupil.id,
                        "session_date": iso[i],
                        "session_name": half,
                        "attendance_mark": mark,
                    }
                    if mark in {"/", "\\"}:
                        roll, chance = rng.random(), late if half == "AM" else late * 0.2
                        if roll < chance:  # arrived before the register closed
                            mark = record["attendance_mark"] = "L"
                            record["minutes_late"] = rng.randint(1, 25)
                        elif roll < chance * 1.06:  # after it closed: an unauthorised absence
                            mark = record["attendance_mark"] = "U"
                            record["minutes_late"] = rng.randint(31, 75)
                    sessions.append(record)
                    for key in _TALLY[mark]:
                        counts[key] += 1
            self.records["attendance_summaries"].append(
                {
                    "id": f"ats-{pupil.id[4:]}-{self.year}",
                    "student_id": pupil.id,
                    "academic_year_id": self.ay_id,
                    "possible_sessions": counts["possible"],
                    "attended_sessions": counts["attended"],
                    "late_sessions": counts["late"],
                    "authorised_absence_sessions": counts["authorised"],
                    "unauthorised_absence_sessions": counts["unauthorised"],
                }
            )

    def _register(
        self, rng: random.Random, pupil: _Pupil, first: int, last: int
    ) -> list[tuple[int, str, str]]:
        """(day index, AM mark, PM mark) for a pupil's days on roll in the window, lateness aside.

        Daily chances scale with the pupil's own propensities (lognormal, mean 1), so absence clusters in
        a few pupils as it does in schools; illness runs over consecutive days.
        """
        days = self.window
        ill = 0.023 * rng.lognormvariate(0.0, 0.8) / 1.38
        truant = 0.01 * rng.lognormvariate(0.0, 1.2) / 2.05
        sent_home, unauthorised, appointment = ill * 1.3, ill * 1.3 + truant, ill * 1.9 + truant
        other = appointment + 0.006
        holiday: set[int] = set()
        # A term-time holiday the school did not agree: 6% of pupils over a full term, fewer in a shorter one.
        if rng.random() < 0.06 * (last - first) / MAX_TERM_DAYS and last - first >= 5:
            begin = rng.randrange(first, last - 4)
            holiday = set(range(begin, begin + rng.randint(2, 5)))
        excluded = self.excluded.get(pupil.id, set())
        register: list[tuple[int, str, str]] = []
        ill_left = 0
        for i in range(first, last):
            if days[i].weekday() == pupil.dual_weekday:
                am, pm = "D", "D"
            elif i in holiday:
                am, pm = "G", "G"
            elif ill_left:
                am, pm = "I", "I"
                ill_left -= 1
            else:
                roll = rng.random()
                if roll < ill:
                    am, pm = "I", "I"
                    ill_left = _pick(rng, ((0, 60), (1, 25), (2, 15)))
                elif roll < sent_home:
                    am, pm = "/", "I"
                elif roll < unauthorised:
                    am = pm = "N" if rng.random() < 0.6 else "O"
                elif roll < appointment:
                    am, pm = ("M", "\\") if rng.random() < 0.6 else ("/", "M")
                elif roll < other:
                    am, pm = _pick(rng, _OTHER_DAYS)
                    if pm == "J1" and pupil.year < 11:  # interviews are for years 11 and up
                        pm = "\\"
                else:
                    am, pm = "/", "\\"
            if excluded:
                am = "E" if (days[i], "AM") in excluded else am
                pm = "E" if (days[i], "PM") in excluded else pm
            register.append((i, am, pm))
        return register


def _tally_keys(mark: str) -> tuple[str, ...]:
    """The summary counters a session with this mark adds one to, as DfE absence statistics count it."""
    if not codes.counts_as_possible_session(mark):
        return ()
    category = codes.attendance_category(mark)
    keys = ["possible"]
    if category in {codes.AttendanceCategory.PRESENT, codes.AttendanceCategory.APPROVED_EDUCATION}:
        keys.append("attended")
    elif category is codes.AttendanceCategory.AUTHORISED:
        keys.append("authorised")
    elif category is codes.AttendanceCategory.UNAUTHORISED:
        keys.append("unauthorised")
    if mark in {"L", "U"}:
        keys.append("late")
    return tuple(keys)


_TALLY: Final = {mark: _tally_keys(mark) for mark in codes.CURRENT_ATTENDANCE_CODES}
