"""DfE code sets used in MIS records (England), as data, with small pure lookups.

Every set below names the source it was checked against. "CBDS" is the DfE Common Basic Data Set that the
school census, the CTF and MIS vendors share. Lookups take a code in canonical form (upper case, trimmed);
`gateway.mis.records` normalises connector input before it calls them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "ATTENDANCE_CODES",
    "ATTENDANCE_CODES_2024_FROM",
    "CURRENT_ATTENDANCE_CODES",
    "ENROLMENT_STATUS_CODES",
    "ETHNICITY_CODES",
    "ETHNICITY_EXTENDED_CODES",
    "ETHNICITY_MAIN_CODES",
    "EXCLUSION_REASON_CODES",
    "EXCLUSION_REASON_OT_WITHDRAWN_FROM",
    "EXCLUSION_TYPE_ALIASES",
    "EXCLUSION_TYPE_CODES",
    "FIRST_LANGUAGE_GENERIC_CODES",
    "GENDER_CODES",
    "LANGUAGE_CODES",
    "LEGACY_ATTENDANCE_CODES",
    "PROFICIENCY_IN_ENGLISH_CODES",
    "RETIRED_ATTENDANCE_CODES",
    "RETIRED_EXCLUSION_REASON_CODES",
    "RETIRED_SEN_PROVISION_CODES",
    "SCHOOL_PHASE_CODES",
    "SEN_NEED_TYPE_CODES",
    "SEN_PROVISION_CODES",
    "SESSION_NAMES",
    "YEAR_CODES",
    "AttendanceCategory",
    "EthnicityGroup",
    "attendance_category",
    "counts_as_possible_session",
    "ethnicity_group",
    "ethnicity_main_code",
    "is_attendance_code_valid_on",
    "is_english_language_code",
    "is_exclusion_reason_valid_on",
    "is_language_code",
    "sen_need_allowed_with_provision",
]


def _frozen(mapping: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(mapping)


# --- Pupil status ---------------------------------------------------------------------------------------

# National curriculum year (NCyearActual). Source: CBDS year-group list as used in MIS census extracts
# (N1, N2, R, 1-14); X = not following the national curriculum. The CBDS also has E1/E2 (early years,
# under 3) which the gateway does not accept: its pupils are aged 2 or more (see records.py).
YEAR_CODES: Final[frozenset[str]] = frozenset(["N1", "N2", "R", *(str(n) for n in range(1, 15)), "X"])

# Enrolment status. Source: CBDS "Enrolment status" set (seen in a CBDS-seeded MIS catalogue, May 2026).
# CBDS also lists F (FE college), O (other provider) and P (previous); connectors send current pupils, and
# leavers carry an end_date rather than P, so only the four census statuses are accepted.
ENROLMENT_STATUS_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "C": "Current (single registration at this school)",
        "M": "Current main (dual registration)",
        "S": "Current subsidiary (dual registration)",
        "G": "Guest (not registered here, attending some sessions)",
    }
)

# Sex/gender. Source: gov.uk "Alternative provision census: codes" and the DfE "codes" page (Sept 2024):
# M male, F female, U unknown. Decision: U is accepted for pupils and staff alike, because an MIS may hold
# a record before the question has been asked; the school census itself returns only M and F.
GENDER_CODES: Final[Mapping[str, str]] = _frozen({"M": "Male", "F": "Female", "U": "Unknown"})

SESSION_NAMES: Final[frozenset[str]] = frozenset({"AM", "PM"})

# School phase. Source: gov.uk "Find a school census code: applicable from August 2024", School phase.
SCHOOL_PHASE_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "NS": "Nursery",
        "PS": "Primary",
        "MP": "Middle (deemed primary)",
        "MS": "Middle (deemed secondary)",
        "SS": "Secondary",
        "AT": "All-through",
        "SP": "Special",
        "PR": "Pupil referral unit / alternative provision",
    }
)


# --- Ethnicity ------------------------------------------------------------------------------------------


class EthnicityGroup(StrEnum):
    """The broad group a DfE main ethnicity code belongs to (as in DfE statistics)."""

    WHITE = "White"
    MIXED = "Mixed"
    ASIAN = "Asian"
    BLACK = "Black"
    CHINESE = "Chinese"
    ANY_OTHER = "Any other"
    UNCLASSIFIED = "Unclassified"


# Main codes. Source: gov.uk "Alternative provision census: codes" ethnicity table (DfE main code and main
# category columns), same table on the DfE school census codes page.
ETHNICITY_MAIN_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "WBRI": "White - British",
        "WIRI": "White - Irish",
        "WIRT": "Traveller of Irish heritage",
        "WOTH": "Any other White background",
        "WROM": "Gypsy / Roma",
        "MWBC": "White and Black Caribbean",
        "MWBA": "White and Black African",
        "MWAS": "White and Asian",
        "MOTH": "Any other mixed background",
        "AIND": "Indian",
        "APKN": "Pakistani",
        "ABAN": "Bangladeshi",
        "AOTH": "Any other Asian background",
        "BCRB": "Black Caribbean",
        "BAFR": "Black - African",
        "BOTH": "Any other Black background",
        "CHNE": "Chinese",
        "OOTH": "Any other ethnic group",
        "REFU": "Refused",
        "NOBT": "Information not yet obtained",
    }
)

_MAIN_CODE_GROUP: Final[Mapping[str, EthnicityGroup]] = MappingProxyType(
    {
        **dict.fromkeys(("WBRI", "WIRI", "WIRT", "WOTH", "WROM"), EthnicityGroup.WHITE),
        **dict.fromkeys(("MWBC", "MWBA", "MWAS", "MOTH"), EthnicityGroup.MIXED),
        **dict.fromkeys(("AIND", "APKN", "ABAN", "AOTH"), EthnicityGroup.ASIAN),
        **dict.fromkeys(("BCRB", "BAFR", "BOTH"), EthnicityGroup.BLACK),
        "CHNE": EthnicityGroup.CHINESE,
        "OOTH": EthnicityGroup.ANY_OTHER,
        **dict.fromkeys(("REFU", "NOBT"), EthnicityGroup.UNCLASSIFIED),
    }
)

# Extended code -> main code. Sources: gov.uk "Alternative provision census: codes" ethnicity table (White
# rows: DfE extended code -> DfE main code); a published copy of the "Ethnicity codes - DfE approved" list
# (White and Mixed rows); the Asian, Black, Chinese and Other rows checked against two open-source code
# lists that reproduce the same DfE annex (a Django early-years pupil model with nested ETHNICITY choices,
# and a Gibbon module's GL Assessment ethnicity map). WPOL and WBRN are not DfE codes (Polish pupils are
# WEEU, White Eastern European), so they are not accepted.
ETHNICITY_EXTENDED_CODES: Final[Mapping[str, str]] = _frozen(
    {
        # White - British
        **dict.fromkeys(("WCOR", "WENG", "WNIR", "WSCO", "WWEL", "WOWB"), "WBRI"),
        # Any other White background
        **dict.fromkeys(
            (
                "WALB",
                "WBOS",
                "WCRO",
                "WGRE",
                "WGRK",
                "WGRC",
                "WITA",
                "WKOS",
                "WPOR",
                "WSER",
                "WTUR",
                "WTUK",
                "WTUC",
                "WEUR",
                "WEEU",
                "WWEU",
                "WOTW",
            ),
            "WOTH",
        ),
        # Gypsy / Roma
        **dict.fromkeys(("WROG", "WROR", "WROO"), "WROM"),
        # White and Asian
        **dict.fromkeys(("MWAP", "MWAI", "MWAO"), "MWAS"),
        # Any other mixed background
        **dict.fromkeys(("MAOE", "MABL", "MACH", "MBOE", "MBCH", "MCOE", "MWOE", "MWCH", "MOTM"), "MOTH"),
        # Pakistani
        **dict.fromkeys(("AMPK", "AKPA", "AOPK"), "APKN"),
        # Any other Asian background
        **dict.fromkeys(("AAFR", "AKAO", "ANEP", "ASNL", "ASLT", "ASRO", "AOTA"), "AOTH"),
        # Black - African
        **dict.fromkeys(("BANN", "BCON", "BGHA", "BNGN", "BSLN", "BSOM", "BSUD", "BAOF"), "BAFR"),
        # Any other Black background
        **dict.fromkeys(("BEUR", "BNAM", "BOTB"), "BOTH"),
        # Chinese
        **dict.fromkeys(("CHKC", "CMAL", "CSNG", "CTWN", "COCH"), "CHNE"),
        # Any other ethnic group
        **dict.fromkeys(
            (
                "OAFG",
                "OARA",
                "OEGY",
                "OFIL",
                "OIRN",
                "OIRQ",
                "OJPN",
                "OKOR",
                "OKRD",
                "OLAM",
                "OLEB",
                "OLIB",
                "OMAL",
                "OMRC",
                "OPOL",
                "OTHA",
                "OVIE",
                "OYEM",
                "OOEG",
            ),
            "OOTH",
        ),
    }
)

ETHNICITY_CODES: Final[frozenset[str]] = frozenset(ETHNICITY_MAIN_CODES) | frozenset(ETHNICITY_EXTENDED_CODES)


def ethnicity_main_code(code: str) -> str | None:
    """The DfE main code for a main or extended ethnicity code ("WENG" -> "WBRI"); None if unknown."""
    if code in ETHNICITY_MAIN_CODES:
        return code
    return ETHNICITY_EXTENDED_CODES.get(code)


def ethnicity_group(code: str) -> EthnicityGroup | None:
    """The broad group of a main or extended ethnicity code ("BSOM" -> Black); None if unknown."""
    main = ethnicity_main_code(code)
    return None if main is None else _MAIN_CODE_GROUP[main]


# --- Language -------------------------------------------------------------------------------------------

# Generic first-language codes a school may use instead of a specific language. Sources: DfE census
# guidance as quoted by Juniper Education ("Language code used for funding": ENB, OTB, REF), a DfE key
# stage checking-exercise Languages table seen in public code (ENG, ENB, OTH, OTB, NOT, REF) and the CBDS
# list in the ClaSS MIS (OTL).
FIRST_LANGUAGE_GENERIC_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "ENG": "English",
        "ENB": "Not known but believed to be English",
        "OTH": "Other than English",
        "OTB": "Not known but believed to be other than English",
        "OTL": "Other language (not otherwise listed)",
        "NOT": "Information not obtained",
        "REF": "Refused",
    }
)

_ENGLISH_CODES: Final[frozenset[str]] = frozenset({"ENG", "ENB"})

# Specific languages: the CBDS extended language code set. Source: the list transcribed "from CBDS" in the
# open-source ClaSS MIS (functions.php), cross-checked with a local-authority copy of the DfE language
# codes ("Additional Guidance - Language Codes"). Note the DfE codes are not ISO 639: Romanian is RMN (not
# RUM), Chinese is CHI with CHIC Cantonese and CHIM Mandarin (not YUE/CMN), French FRN, Spanish SPA.
_LANGUAGE_TABLE: Final = """
ACL Acholi; ADA Adangme; AFA Afar-Saho; AFK Afrikaans; AKA Akan/Twi-Fante; AKAF Akan (Fante)
AKAT Akan (Twi/Asante); ALB Albanian/Shqip; ALU Alur; AMR Amharic; ARA Arabic; ARAA Arabic (any other)
ARAG Arabic (Algeria); ARAI Arabic (Iraq); ARAM Arabic (Morocco); ARAS Arabic (Sudan); ARAY Arabic (Yemen)
ARM Armenian; ASM Assamese; ASR Assyrian/Aramaic; AYB Anyi-Baule; AYM Aymara; AZE Azeri; BAI Bamileke
BAL Balochi; BEJ Beja/Bedawi; BEL Belarusian; BEM Bemba; BHO Bhojpuri; BIK Bikol; BLT Balti Tibetan
BMA Burmese/Myanma; BNG Bengali; BNGA Bengali (any other); BNGC Bengali (Chittagong/Noakhali)
BNGS Bengali (Sylheti); BSL British Sign Language; BSQ Basque/Euskara; BUL Bulgarian; CAM Cambodian/Khmer
CAT Catalan/Valencian; CCE Caribbean Creole English; CCF Caribbean Creole French; CGA Chaga
CGR Chattisgarhi/Khatahi; CHE Chechen; CHI Chinese; CHIA Chinese (any other); CHIC Chinese (Cantonese)
CHIH Chinese (Hokkien/Fujianese); CHIK Chinese (Hakka); CHIM Chinese (Mandarin/Putonghua); CKW Chokwe
CRN Cornish; CTR Chitrali/Khowar; CWA Chichewa/Nyanja; CYM Welsh/Cymraeg; CZE Czech; DAN Danish
DGA Dagaare; DGB Dagbane; DIN Dinka/Jieng; DUT Dutch/Flemish; DZO Dzongkha/Bhutanese; EBI Ebira
EDO Edo/Bini; EFI Efik-Ibibio; ESA Esan/Ishan; EST Estonian; EWE Ewe; EWO Ewondo; FAN Fang; FIJ Fijian
FIN Finnish; FON Fon; FRN French; FUL Fula/Fulfulde-Pulaar; GAA Ga; GAE Gaelic/Irish; GAL Gaelic (Scotland)
GEO Georgian; GER German; GGO Gogo/Chigogo; GKY Kikuyu/Gikuyu; GLG Galician/Galego; GRE Greek
GREA Greek (any other); GREC Greek (Cyprus); GRN Guarani; GUJ Gujarati; GUN Gurenne/Frafra; GUR Gurma
HAU Hausa; HDK Hindko; HEB Hebrew; HER Herero; HGR Hungarian; HIN Hindi; IBA Iban; IDM Idoma; IGA Igala
IGB Igbo; IJO Ijo; ILO Ilokano; ISK Itsekiri; ISL Icelandic; ITA Italian; ITAA Italian (any other)
ITAN Italian (Napoletan); ITAS Italian (Sicilian); JAV Javanese; JIN Jinghpaw/Kachin; JPN Japanese
KAM Kikamba; KAN Kannada; KAR Karen; KAS Kashmiri; KAU Kanuri; KAZ Kazakh; KCH Katchi; KGZ Kirghiz/Kyrgyz
KHA Khasi; KHY Kihaya/Luziba; KIN Kinyarwanda; KIR Kirundi; KIS Kisi (West Africa); KLN Kalenjin
KMB Kimbundu; KME Kimeru; KNK Konkani; KNY Kinyakyusa-Ngonde; KON Kikongo; KOR Korean; KPE Kpelle; KRI Krio
KRU Kru; KSI Kisii/Ekegusii (Kenya); KSU Kisukuma; KUR Kurdish; KURA Kurdish (any other)
KURM Kurdish (Kurmanji); KURS Kurdish (Sorani); LAO Lao; LBA Luba; LBAC Luba (Chiluba/Tshiluba)
LBAK Luba (Kiluba); LGA Luganda; LGB Lugbara; LGS Lugisu/Lumasaba; LIN Lingala; LIT Lithuanian
LNG Lango (Uganda); LOZ Lozi/Silozi; LSO Lusoga; LTV Latvian; LTZ Luxemburgish; LUE Luvale/Luena; LUN Lunda
LUO Luo (Kenya/Tanzania); LUY Luhya; MAG Magahi; MAI Maithili; MAK Makua; MAN Manding/Malinke
MANA Manding/Malinke (any other); MANB Bambara; MANJ Dyula/Jula; MAO Maori; MAR Marathi; MAS Maasai
MDV Maldivian/Dhivehi; MEN Mende; MKD Macedonian; MLG Malagasy; MLM Malayalam; MLT Maltese
MLY Malay/Indonesian; MLYA Malay (any other); MLYI Indonesian/Bahasa Indonesia; MNA Magindanao-Maranao
MNG Mongolian (Khalkha); MNX Manx Gaelic; MOR Moore/Mossi; MSC Mauritian/Seychelles Creole; MUN Munda
MYA Maya; NAH Nahuatl/Mexicano; NAM Nama/Damara; NBN Nubian; NDB Ndebele; NDBS Ndebele (South Africa)
NDBZ Ndebele (Zimbabwe); NEP Nepali; NOR Norwegian; NUE Nuer/Naadh; NUP Nupe; NWA Newari; NZM Nzema
OAM Ambo/Oshiwambo; OAMK Ambo (Kwanyama); OAMN Ambo (Ndonga); OGN Ogoni; ORI Oriya; ORM Oromo
PAG Pangasinan; PAM Pampangan; PAT Pashto/Pakhto; PHA Pahari/Himachali (India); PHR Pahari (Pakistan)
PNJ Panjabi; PNJA Panjabi (any other); PNJG Panjabi (Gurmukhi); PNJM Panjabi (Mirpuri)
PNJP Panjabi (Pothwari); POL Polish; POR Portuguese; PORA Portuguese (any other); PORB Portuguese (Brazil)
PRS Persian/Farsi; PRSA Farsi/Persian (any other); PRSD Dari Persian; PRST Tajiki Persian; QUE Quechua
RAJ Rajasthani/Marwari; RME Romany/English Romanes; RMI Romani (International); RMN Romanian
RMNM Romanian (Moldova); RMNR Romanian (Romania); RMS Romansch; RNY Runyakitara; RNYN Runyankore-Ruchiga
RNYO Runyoro-Rutooro; RUS Russian; SAM Samoan; SCB Serbian/Croatian/Bosnian; SCBB Bosnian; SCBC Croatian
SCBS Serbian; SCO Scots; SHL Shilluk/Cholo; SHO Shona; SID Sidamo; SIO Sign language (other); SLO Slovak
SLV Slovenian; SND Sindhi; SNG Sango; SNH Sinhala; SOM Somali; SPA Spanish; SRD Sardinian; SRK Siraiki
SSO Sotho/Sesotho; SSOO Sotho/Sesotho (Southern); SSOT Sotho/Sesotho (Northern); SSW Swazi/Siswati
STS Tswana/Setswana; SUN Sundanese; SWA Swahili/Kiswahili; SWAA Swahili (any other); SWAC Comorian Swahili
SWAK Swahili (Kingwana); SWAM Swahili (Brava/Mwiini); SWAT Swahili (Bajuni/Tikuu); SWE Swedish; TAM Tamil
TEL Telugu; TEM Temne; TES Teso/Ateso; TGE Tigre; TGL Tagalog/Filipino; TGLF Filipino; TGLG Tagalog
TGR Tigrinya; THA Thai; TIB Tibetan; TIV Tiv; TMZ Berber/Tamazight; TMZA Berber/Tamazight (any other)
TMZK Berber/Tamazight (Kabyle); TMZT Berber (Tamashek); TNG Tonga/Chitonga (Zambia); TON Tongan (Oceania)
TPI Tok Pisin; TRI Traveller Irish/Shelta; TSO Tsonga; TUK Turkmen; TUL Tulu; TUM Tumbuka; TUR Turkish
UKR Ukrainian; UMB Umbundu; URD Urdu; URH Urhobo-Isoko; UYG Uyghur; UZB Uzbek; VEN Venda; VIE Vietnamese
VSY Visayan/Bisaya; VSYA Visayan/Bisaya (any other); VSYH Hiligaynon; VSYS Cebuano/Sugbuanon
VSYW Waray/Binisaya; WAP Wa-Paraok (South-East Asia); WCP West-African Creole Portuguese; WOL Wolof
WPE West-African Pidgin English; XHO Xhosa; YAO Yao/Chiyao (East Africa); YDI Yiddish; YOR Yoruba
ZND Zande; ZUL Zulu
"""


def _parse_language_table(table: str) -> dict[str, str]:
    entries = (entry.strip() for line in table.strip().splitlines() for entry in line.split(";"))
    return dict(entry.split(" ", 1) for entry in entries if entry)


LANGUAGE_CODES: Final[Mapping[str, str]] = _frozen(
    {**FIRST_LANGUAGE_GENERIC_CODES, **_parse_language_table(_LANGUAGE_TABLE)}
)


def is_language_code(code: str) -> bool:
    """Whether `code` is a DfE first-language code: generic (ENG, OTB, ...) or a specific language."""
    return code in LANGUAGE_CODES


def is_english_language_code(code: str) -> bool | None:
    """Whether a first-language code means English: True for ENG/ENB, None when unknown (NOT, REF)."""
    if code in _ENGLISH_CODES:
        return True
    if code in {"NOT", "REF"} or code not in LANGUAGE_CODES:
        return None
    return False


# Proficiency in English. Source: DfE census codes as listed by MIS import guides (e.g. NOA's learner
# import page): A new to English ... E fluent, N not yet assessed.
PROFICIENCY_IN_ENGLISH_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "A": "New to English",
        "B": "Early acquisition",
        "C": "Developing competence",
        "D": "Competent",
        "E": "Fluent",
        "N": "Not yet assessed",
    }
)


# --- SEN ------------------------------------------------------------------------------------------------

# SEN provision. Source: CBDS "Pupil SEN provision" (E, K, N); S (statement) was withdrawn with the 2014
# reforms, as were A/P (School Action / Action Plus). Retired codes are rejected, with their own message.
SEN_PROVISION_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "E": "Education, health and care plan",
        "K": "SEN support",
        "N": "No special educational need",
    }
)
RETIRED_SEN_PROVISION_CODES: Final[frozenset[str]] = frozenset({"S", "A", "P"})

# SEN type of need. Source: CBDS "SEN type" set (seen in a CBDS-seeded MIS catalogue, May 2026, and GL
# Assessment's SEND value list). DS (Down syndrome) is the newest CBDS entry. NSA ("SEN support but no
# specialist assessment of type of need") is valid only with provision K.
SEN_NEED_TYPE_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "SPLD": "Specific learning difficulty",
        "MLD": "Moderate learning difficulty",
        "SLD": "Severe learning difficulty",
        "PMLD": "Profound and multiple learning difficulty",
        "SEMH": "Social, emotional and mental health",
        "SLCN": "Speech, language and communication needs",
        "HI": "Hearing impairment",
        "VI": "Vision impairment",
        "MSI": "Multi-sensory impairment",
        "PD": "Physical disability",
        "ASD": "Autistic spectrum disorder",
        "DS": "Down syndrome",
        "OTH": "Other difficulty/disability",
        "NSA": "SEN support but no specialist assessment of type of need",
    }
)


def sen_need_allowed_with_provision(type_code: str, provision: str) -> bool:
    """Whether a pupil with SEN `provision` may have a need of `type_code` (none with N; NSA only with K)."""
    if provision == "N":
        return False
    return type_code != "NSA" or provision == "K"


# --- Attendance -----------------------------------------------------------------------------------------


class AttendanceCategory(StrEnum):
    """How a session mark counts: the DfE register categories, administrative codes as not_possible."""

    PRESENT = "present"
    APPROVED_EDUCATION = "approved_education"
    AUTHORISED = "authorised"
    UNAUTHORISED = "unauthorised"
    NOT_POSSIBLE = "not_possible"


# The School Attendance (Pupil Registration) (England) Regulations 2024 (SI 2024/208, reg. 10 tables) came
# into force on 19 August 2024. Sources: legislation.gov.uk SI 2024/208 reg. 10; "Working together to
# improve school attendance" (2024) as summarised by Keystone MIS, School Business Services and Backdrop
# Leadership. X, Q, Y1-Y7, Z and # are not counted as possible sessions.
ATTENDANCE_CODES_2024_FROM: Final = date(2024, 8, 19)

_P, _AE, _AU, _UN, _NP = (
    AttendanceCategory.PRESENT,
    AttendanceCategory.APPROVED_EDUCATION,
    AttendanceCategory.AUTHORISED,
    AttendanceCategory.UNAUTHORISED,
    AttendanceCategory.NOT_POSSIBLE,
)

# code -> (category, description), for the codes in force from 19 August 2024.
CURRENT_ATTENDANCE_CODES: Final[Mapping[str, tuple[AttendanceCategory, str]]] = MappingProxyType(
    {
        "/": (_P, "Present (AM)"),
        "\\": (_P, "Present (PM)"),
        "L": (_P, "Late, arrived before the register closed"),
        "K": (_AE, "Attending education provision arranged by the local authority"),
        "V": (_AE, "Attending an educational visit or trip"),
        "P": (_AE, "Participating in a supervised sporting activity"),
        "W": (_AE, "Attending work experience"),
        "B": (_AE, "Attending any other approved educational activity"),
        "D": (_AE, "Dual registered, attending the other school"),
        "C1": (_AU, "Leave of absence: regulated performance or employment abroad"),
        "M": (_AU, "Leave of absence: medical or dental appointment"),
        "J1": (_AU, "Leave of absence: interview"),
        "S": (_AU, "Leave of absence: study leave"),
        "C2": (_AU, "Leave of absence: temporary part-time timetable"),
        "C": (_AU, "Leave of absence: exceptional circumstances"),
        "T": (_AU, "Parent travelling for occupational purposes"),
        "R": (_AU, "Religious observance"),
        "I": (_AU, "Illness"),
        "E": (_AU, "Suspended or permanently excluded, no alternative provision"),
        "G": (_UN, "Holiday not authorised"),
        "N": (_UN, "Reason for absence not yet provided"),
        "O": (_UN, "Absent in other or unknown circumstances"),
        "U": (_UN, "Arrived after the register closed"),
        "X": (_NP, "Not required to attend: non-compulsory school age"),
        "Q": (_NP, "Unable to attend: lack of access arrangements"),
        "Y1": (_NP, "Unable to attend: transport normally provided not available"),
        "Y2": (_NP, "Unable to attend: widespread disruption to travel"),
        "Y3": (_NP, "Unable to attend: part of the school premises closed"),
        "Y4": (_NP, "Unable to attend: whole school site unexpectedly closed"),
        "Y5": (_NP, "Unable to attend: in criminal justice detention"),
        "Y6": (_NP, "Unable to attend: public health guidance or law"),
        "Y7": (_NP, "Unable to attend: any other unavoidable cause"),
        "Z": (_NP, "Prospective pupil not on the admission register"),
        "#": (_NP, "Planned whole-school closure"),
    }
)

# Codes of the 2006 regulations withdrawn on 19 August 2024 (J became J1 and moved from approved activity
# to authorised absence; H and the single Y went; F had gone in 2013). Rejected for dates from 2024-08-19.
RETIRED_ATTENDANCE_CODES: Final[Mapping[str, tuple[AttendanceCategory, str]]] = MappingProxyType(
    {
        "H": (_AU, "Agreed family holiday (withdrawn)"),
        "F": (_AU, "Agreed extended family holiday (withdrawn)"),
        "J": (_AE, "Interview (withdrawn; now J1)"),
        "Y": (_NP, "Unable to attend: exceptional circumstances (withdrawn; now Y1-Y7)"),
    }
)

_NEW_IN_2024: Final[frozenset[str]] = frozenset({"K", "C1", "C2", "J1", "Q", *(f"Y{n}" for n in range(1, 8))})

# Codes valid for sessions before 19 August 2024 (2006 regulations as amended).
LEGACY_ATTENDANCE_CODES: Final[frozenset[str]] = (
    frozenset(CURRENT_ATTENDANCE_CODES) - _NEW_IN_2024
) | frozenset(RETIRED_ATTENDANCE_CODES)

ATTENDANCE_CODES: Final[Mapping[str, tuple[AttendanceCategory, str]]] = MappingProxyType(
    {**CURRENT_ATTENDANCE_CODES, **RETIRED_ATTENDANCE_CODES}
)


def attendance_category(code: str) -> AttendanceCategory | None:
    """The category of an attendance mark of either regime ("I" -> authorised); None if unknown."""
    entry = ATTENDANCE_CODES.get(code)
    return None if entry is None else entry[0]


def is_attendance_code_valid_on(code: str, session_date: date) -> bool:
    """Whether `code` was a valid register mark on `session_date` (2024 codes from 19 August 2024)."""
    if session_date >= ATTENDANCE_CODES_2024_FROM:
        return code in CURRENT_ATTENDANCE_CODES
    return code in LEGACY_ATTENDANCE_CODES


def counts_as_possible_session(code: str) -> bool:
    """Whether a session with this mark counts as a possible session in DfE absence statistics.

    Administrative and "unable to attend" codes do not, and neither does D: the dual-registered pupil's
    possible session belongs to the other school (school census query 2502Q, as explained by ScholarPack).
    """
    category = attendance_category(code)
    return category is not None and category is not AttendanceCategory.NOT_POSSIBLE and code != "D"


# --- Exclusions -----------------------------------------------------------------------------------------

# Exclusion category. Source: SPEC §2 and the NPD data dictionary ("type of exclusion (PERM, FIXD, LNCH)").
# Recent CBDS versions call a fixed-period exclusion a suspension and code it SUSP; connectors may send
# either, and SUSP is stored as FIXD so one category has one code.
EXCLUSION_TYPE_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "PERM": "Permanent exclusion",
        "FIXD": "Suspension (fixed-period exclusion)",
        "LNCH": "Lunchtime exclusion",
    }
)
EXCLUSION_TYPE_ALIASES: Final[Mapping[str, str]] = _frozen({"SUSP": "FIXD"})

# Reason codes. Sources: a CBDS-seeded MIS catalogue (May 2026, 29 reasons); ScholarPack's exclusion page
# (OW, up to three reasons, "Other" removed); LA exclusion forms (PP, PA, VP, VA, BU, RA, SM, DA, DM, TH, DB).
# The reference note's PA1/PA2/VA1/VA2/WP spellings do not occur in any of these and are not accepted.
EXCLUSION_REASON_CODES: Final[Mapping[str, str]] = _frozen(
    {
        "PP": "Physical assault against a pupil",
        "PA": "Physical assault against an adult",
        "VP": "Verbal abuse/threatening behaviour against a pupil",
        "VA": "Verbal abuse/threatening behaviour against an adult",
        "OW": "Use or threat of use of an offensive weapon or prohibited item",
        "BW": "Found to have brought a weapon or prohibited item into school",
        "BU": "Bullying",
        "TB": "Cyber-bullying or threatening behaviour online",
        "RA": "Racist abuse including bullying",
        "LG": "Abuse against sexual orientation and gender identity including bullying",
        "DS": "Abuse relating to disability including bullying",
        "SM": "Sexual misconduct",
        "SB": "Harmful sexual behaviour",
        "MB": "Misogynistic behaviour",
        "AB": "Misandrist behaviour",
        "DR": "Drug related",
        "AR": "Alcohol related",
        "SR": "Smoking related",
        "VR": "Vape related",
        "DA": "Drug and alcohol related",
        "DM": "Damage to property",
        "TH": "Theft",
        "LD": "Persistent disruptive behaviour: low-level disruption",
        "CB": "Persistent disruptive behaviour: challenging behaviour",
        "DB": "Persistent or general disruptive behaviour",
        "MT": "Inappropriate use of social media or online technology",
        "MP": "Use of mobile phone",
        "OS": "Misbehaviour outside of school",
        "PH": "Wilful and repeated transgression of public-health protective measures",
    }
)

# "OT" (other) was withdrawn when the 2020/21 reason list replaced it with specific reasons. Decision (the
# exact withdrawal date is not confirmed by a primary source): accepted for exclusions starting before
# 1 August 2020 so that historic records still load, rejected after.
RETIRED_EXCLUSION_REASON_CODES: Final[Mapping[str, str]] = _frozen({"OT": "Other (withdrawn)"})
EXCLUSION_REASON_OT_WITHDRAWN_FROM: Final = date(2020, 8, 1)


def is_exclusion_reason_valid_on(code: str, start_date: date) -> bool:
    """Whether `code` is a valid exclusion reason for an exclusion starting on `start_date`."""
    if code in EXCLUSION_REASON_CODES:
        return True
    return code in RETIRED_EXCLUSION_REASON_CODES and start_date < EXCLUSION_REASON_OT_WITHDRAWN_FROM
