"""Record schemas for what a school's MIS connector pushes (SPEC §2 field names, §3.7 sync). Pure.

One model per resource (`RECORD_MODELS`); every model is frozen, rejects unknown fields and bounds every
string and list. Validation follows the rules schools' data already obeys (DfE code sets in
`gateway.mis.codes`, identifier checks in `gateway.mis.identifiers`). A bad value raises a pydantic
`ValidationError` whose `loc` names the offending field (down to list index and sub-field); error types
are `invalid_code`, `retired_code`, `invalid_identifier`, `date_order`, `implausible_dob`, `inconsistent`,
`duplicate`, `overlap` and pydantic's own. Messages never repeat the submitted value.

Decisions worth knowing:
- Codes are normalised to upper case; UPNs, NHS numbers and postcodes to their canonical form.
- Dates of birth are checked against a reference day: the record's start_date when given, else today.
  Pupils must be aged 2-25 on it (nursery to the end of SEND provision), staff 16-100 (school staff include
  16-year-old apprentices). Nobody may be born after today. "Today" comes from the validation context
  (`Model.model_validate(data, context={"today": date(...)})`) so tests and replays are deterministic.
- Date ranges may start and end on the same day; periods (FSM, pupil premium, SEN needs of one rank) may
  touch but not overlap.
- `ethnicity_group` and `is_eal` are derived when absent and must agree with the code when present.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Annotated, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from gateway.mis import codes
from gateway.mis.codes import EthnicityGroup
from gateway.mis.identifiers import (
    is_uk_postcode,
    is_valid_la_code,
    is_valid_nhs_number,
    is_valid_uln,
    is_valid_upn,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
)

__all__ = [
    "RECORD_MODELS",
    "AcademicYearRecord",
    "Address",
    "AssessmentRecord",
    "AttendanceSessionRecord",
    "AttendanceSummaryRecord",
    "ContactRecord",
    "DatePeriod",
    "ExclusionRecord",
    "GroupRecord",
    "MedicalCondition",
    "MisRecord",
    "ResultRecord",
    "SchoolRecord",
    "SenNeed",
    "StaffRecord",
    "StudentContactRecord",
    "StudentRecord",
    "SubjectRecord",
    "TelephoneNumber",
]

PUPIL_AGE_RANGE: Final = (2, 25)
STAFF_AGE_RANGE: Final = (16, 100)
MAX_SESSIONS: Final = 1000  # about 380 sessions make a school year; anything far above is a unit error
MAX_SUSPENSION_SESSIONS: Final = 90  # 45 school days: the most a pupil may be suspended in a school year


# --- Normalisers and checks (pure) --------------------------------------------------------------------


def _canonical_code(value: object) -> object:
    """Codes arrive in any case from some MIS exports; store them as DfE prints them."""
    if isinstance(value, str) and len(value) <= 64:
        return value.strip().upper()
    return value


def _lower(value: object) -> object:
    if isinstance(value, str) and len(value) <= 128:
        return value.strip().lower()
    return value


def _member(allowed: Collection[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError("invalid_code", f"not a valid {what} code")
        return value

    return AfterValidator(check)


def _normalised(normalise: Callable[[str], str]) -> BeforeValidator:
    def run(value: object) -> object:
        return normalise(value) if isinstance(value, str) and len(value) <= 64 else value

    return BeforeValidator(run)


def _checked(predicate: Callable[[str], bool], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not predicate(value):
            raise PydanticCustomError("invalid_identifier", f"not a valid {what}")
        return value

    return AfterValidator(check)


def _valid_postcode(value: str) -> str:
    if not is_uk_postcode(value):
        raise PydanticCustomError("invalid_identifier", "not a UK postcode")
    return normalise_postcode(value)


def _phone_digits(value: str) -> str:
    digits = sum(char.isdigit() for char in value)
    if not 7 <= digits <= 15:
        raise PydanticCustomError("value_error", "a telephone number has 7 to 15 digits")
    return value


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _today(info: ValidationInfo) -> date:
    context = info.context
    if isinstance(context, Mapping):
        today = context.get("today")
        if isinstance(today, date):
            return today
    return date.today()


def _overlap(first: DatePeriod | SenNeed, second: DatePeriod | SenNeed) -> bool:
    """Whether two date ranges share more than a boundary day (open ends run forever)."""
    start = max(first.start_date or date.min, second.start_date or date.min)
    end = min(first.end_date or date.max, second.end_date or date.max)
    return start < end


# --- Field types ----------------------------------------------------------------------------------------

_LINE: Final = r"^[^\x00-\x1f\x7f]+$"  # one line of text, no control characters
_TEXT: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # may hold tabs and line breaks

RecordId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Line20 = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=_LINE)]
Line50 = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=_LINE)]
Line100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_LINE)]
Line200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_LINE)]
Notes = Annotated[str, StringConstraints(max_length=2000, pattern=_TEXT)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[
    str,
    StringConstraints(min_length=7, max_length=25, pattern=r"^\+?[0-9 ()-]+$"),
    AfterValidator(_phone_digits),
]
Postcode = Annotated[str, StringConstraints(min_length=5, max_length=10), AfterValidator(_valid_postcode)]
Session = Annotated[Literal["AM", "PM"], BeforeValidator(_canonical_code)]
_CODE_LENGTH: Final = StringConstraints(max_length=16)  # codes are 1-4 characters; longer is an invalid code

Upn = Annotated[
    str, StringConstraints(max_length=13), _checked(is_valid_upn, "UPN"), _normalised(normalise_upn)
]
Uln = Annotated[str, StringConstraints(max_length=10), _checked(is_valid_uln, "ULN")]
NhsNumber = Annotated[
    str,
    StringConstraints(max_length=10),
    _checked(is_valid_nhs_number, "NHS number"),
    _normalised(normalise_nhs_number),
]
LaCode = Annotated[str, StringConstraints(max_length=3), _checked(is_valid_la_code, "LA number")]
Urn = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
EstablishmentNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,3}$"), BeforeValidator(_canonical_code)]
StaffCode = Annotated[str, StringConstraints(min_length=1, max_length=10, pattern=r"^[A-Za-z0-9._-]+$")]
AdmissionNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9/._-]+$")
]
PhotoUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https://[^\s/]+/?\S*$")]
PhotoHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$"), BeforeValidator(_lower)]

YearCode = Annotated[str, _CODE_LENGTH, _member(codes.YEAR_CODES, "year"), BeforeValidator(_canonical_code)]
EnrolmentStatus = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.ENROLMENT_STATUS_CODES, "enrolment status"),
    BeforeValidator(_canonical_code),
]
Gender = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.GENDER_CODES, "gender"),
    BeforeValidator(_canonical_code),
]
EthnicityCode = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.ETHNICITY_CODES, "DfE ethnicity"),
    BeforeValidator(_canonical_code),
]
LanguageCode = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.LANGUAGE_CODES, "DfE language"),
    BeforeValidator(_canonical_code),
]
Proficiency = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.PROFICIENCY_IN_ENGLISH_CODES, "proficiency in English"),
    BeforeValidator(_canonical_code),
]
SenNeedType = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.SEN_NEED_TYPE_CODES, "SEN type of need"),
    BeforeValidator(_canonical_code),
]
SchoolPhase = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.SCHOOL_PHASE_CODES, "school phase"),
    BeforeValidator(_canonical_code),
]
AttendanceMark = Annotated[
    str,
    _CODE_LENGTH,
    _member(codes.ATTENDANCE_CODES, "attendance"),
    BeforeValidator(_canonical_code),
]
ExclusionReason = Annotated[str, _CODE_LENGTH, BeforeValidator(_canonical_code)]
SessionCount = Annotated[int, Field(ge=0, le=MAX_SESSIONS)]


def _sen_provision(value: str) -> str:
    if value in codes.RETIRED_SEN_PROVISION_CODES:
        raise PydanticCustomError("retired_code", "this SEN provision code has been withdrawn")
    if value not in codes.SEN_PROVISION_CODES:
        raise PydanticCustomError("invalid_code", "not a valid SEN provision code")
    return value


def _exclusion_type(value: str) -> str:
    value = codes.EXCLUSION_TYPE_ALIASES.get(value, value)
    if value not in codes.EXCLUSION_TYPE_CODES:
        raise PydanticCustomError("invalid_code", "not a valid exclusion type code")
    return value


def _exclusion_reason(value: str) -> str:
    if value not in codes.EXCLUSION_REASON_CODES and value not in codes.RETIRED_EXCLUSION_REASON_CODES:
        raise PydanticCustomError("invalid_code", "not a valid exclusion reason code")
    return value


SenProvision = Annotated[str, _CODE_LENGTH, AfterValidator(_sen_provision), BeforeValidator(_canonical_code)]
ExclusionType = Annotated[
    str, _CODE_LENGTH, AfterValidator(_exclusion_type), BeforeValidator(_canonical_code)
]


# --- Error collection -----------------------------------------------------------------------------------


class _Problems:
    """Cross-field errors gathered by a model check and raised together, each with its own loc."""

    def __init__(self) -> None:
        self._errors: list[InitErrorDetails] = []

    def add(self, loc: tuple[str | int, ...], kind: str, message: str, value: object) -> None:
        self._errors.append(InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value))

    def date_order(self, start: date | None, end: date | None, loc: tuple[str | int, ...]) -> None:
        if start is not None and end is not None and end < start:
            self.add(loc, "date_order", "the end date is before the start date", end)

    def duplicates(self, values: Sequence[object], field: str) -> None:
        seen: set[object] = set()
        for index, value in enumerate(values):
            key = value.casefold() if isinstance(value, str) else value
            if key in seen:
                self.add((field, index), "duplicate", "this value is listed twice", value)
            seen.add(key)

    def dob(self, dob: date | None, reference: date | None, today: date, ages: tuple[int, int]) -> None:
        if dob is None:
            return
        if dob > today:
            self.add(("dob",), "implausible_dob", "the date of birth is in the future", dob)
            return
        youngest, oldest = ages
        if not youngest <= _age_on(dob, reference or today) <= oldest:
            self.add(("dob",), "implausible_dob", f"the age must be {youngest} to {oldest}", dob)

    def raise_if_any(self, model: type[BaseModel]) -> None:
        if self._errors:
            raise ValidationError.from_exception_data(model.__name__, self._errors)


# --- Base and nested parts ------------------------------------------------------------------------------


class MisRecord(BaseModel):
    """Base of every connector record: immutable, closed to unknown fields, whitespace trimmed."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Address(MisRecord):
    line1: Line200
    line2: Line200 | None = None
    town: Line100 | None = None
    county: Line100 | None = None
    postcode: Postcode | None = None


class DatePeriod(MisRecord):
    """An eligibility period (free school meals, pupil premium); an open end means still eligible."""

    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        problems.date_order(self.start_date, self.end_date, ("end_date",))
        problems.raise_if_any(type(self))
        return self


class SenNeed(MisRecord):
    type_code: SenNeedType
    type_name: Line100 | None = None
    rank: int = Field(ge=1, le=10)
    start_date: date | None = None
    end_date: date | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        problems.date_order(self.start_date, self.end_date, ("end_date",))
        problems.raise_if_any(type(self))
        return self


class MedicalCondition(MisRecord):
    code: Line50 | None = None
    name: Line200
    notes: Notes | None = None


class TelephoneNumber(MisRecord):
    type: Annotated[Literal["home", "work", "mobile", "other"], BeforeValidator(_lower)]
    number: Phone


# --- School ---------------------------------------------------------------------------------------------


class SchoolRecord(MisRecord):
    id: RecordId
    urn: Urn
    name: Line200
    la_code: LaCode
    establishment_number: EstablishmentNumber
    phase: SchoolPhase | None = None
    mis_provider: Line100 | None = None
    postcode: Postcode | None = None


class AcademicYearRecord(MisRecord):
    id: RecordId
    name: Line50
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        end = self.end_date
        if end <= self.start_date:
            problems.add(("end_date",), "date_order", "the end date is not after the start date", end)
        elif (end - self.start_date).days > 400:
            problems.add(("end_date",), "date_order", "an academic year lasts at most 400 days", end)
        problems.raise_if_any(type(self))
        return self


class SubjectRecord(MisRecord):
    id: RecordId
    code: Line20
    name: Line100


class GroupRecord(MisRecord):
    id: RecordId
    type: Literal["year", "registration", "teaching", "house"]
    name: Line100
    code: Line20 | None = None
    subject_id: RecordId | None = None
    academic_year_id: RecordId | None = None
    start_date: date | None = None
    end_date: date | None = None
    supervisor_staff_ids: list[RecordId] = Field(default_factory=list, max_length=50)
    student_ids: list[RecordId] = Field(default_factory=list, max_length=5000)

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        if self.subject_id is not None and self.type != "teaching":
            problems.add(
                ("subject_id",), "inconsistent", "only teaching groups have a subject", self.subject_id
            )
        problems.date_order(self.start_date, self.end_date, ("end_date",))
        problems.duplicates(self.supervisor_staff_ids, "supervisor_staff_ids")
        problems.duplicates(self.student_ids, "student_ids")
        problems.raise_if_any(type(self))
        return self


# --- Students -------------------------------------------------------------------------------------------


class StudentRecord(MisRecord):
    # students.basic
    id: RecordId
    mis_id: RecordId | None = None
    first_name: Line100
    last_name: Line100
    year_code: YearCode | None = None
    registration_group_id: RecordId | None = None
    start_date: date | None = None
    end_date: date | None = None
    enrolment_status: EnrolmentStatus | None = None
    # students.identifiers
    upn: Upn | None = None
    former_upn: Upn | None = None
    uln: Uln | None = None
    pan: AdmissionNumber | None = None
    # students.legal_names, students.former_names
    legal_first_name: Line100 | None = None
    legal_last_name: Line100 | None = None
    middle_names: Line200 | None = None
    former_last_name: Line100 | None = None
    # students.demographics
    dob: date | None = None
    gender: Gender | None = None
    # students.contact_details
    email: Email | None = None
    address: Address | None = None
    # students.ethnicity (ethnicity_group after ethnicity_code: it is derived from it)
    ethnicity_code: EthnicityCode | None = None
    ethnicity_group: EthnicityGroup | None = Field(default=None, validate_default=True)
    # students.languages (is_eal after first_language_code: it is derived from it)
    first_language_code: LanguageCode | None = None
    home_language_code: LanguageCode | None = None
    is_eal: bool | None = Field(default=None, validate_default=True)
    proficiency_in_english: Proficiency | None = None
    # students.nationality
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=5)
    country_of_birth: CountryCode | None = None
    # students.fsm, students.pupil_premium
    is_fsm: bool | None = None
    is_fsm6: bool | None = None
    fsm_periods: list[DatePeriod] = Field(default_factory=list, max_length=50)
    fsm_review_date: date | None = None
    is_pp: bool | None = None
    pp_periods: list[DatePeriod] = Field(default_factory=list, max_length=50)
    # students.care
    in_care: bool | None = None
    ever_in_care: bool | None = None
    service_child: bool | None = None
    # students.sen
    sen_provision: SenProvision | None = None
    sen_needs: list[SenNeed] = Field(default_factory=list, max_length=20)
    # students.medical
    medical_conditions: list[MedicalCondition] = Field(default_factory=list, max_length=50)
    dietary_needs: list[Line200] = Field(default_factory=list, max_length=20)
    has_emergency_consent: bool | None = None
    nhs_number: NhsNumber | None = None
    # students.photo
    photo_url: PhotoUrl | None = None
    photo_hash: PhotoHash | None = None

    @field_validator("ethnicity_group", mode="after")
    @classmethod
    def _derive_ethnicity_group(
        cls, value: EthnicityGroup | None, info: ValidationInfo
    ) -> EthnicityGroup | None:
        code = info.data.get("ethnicity_code")
        derived = None if code is None else codes.ethnicity_group(code)
        if derived is None:
            return value
        if value is not None and value != derived:
            raise PydanticCustomError("inconsistent", "the ethnicity group does not match the ethnicity code")
        return derived

    @field_validator("is_eal", mode="after")
    @classmethod
    def _derive_is_eal(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        code = info.data.get("first_language_code")
        english = None if code is None else codes.is_english_language_code(code)
        if english is None:
            return value
        if value is not None and value == english:
            raise PydanticCustomError("inconsistent", "is_eal does not match the first language code")
        return not english

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Self:
        problems = _Problems()
        problems.date_order(self.start_date, self.end_date, ("end_date",))
        problems.dob(self.dob, self.start_date, _today(info), PUPIL_AGE_RANGE)
        if self.upn is not None and self.former_upn == self.upn:
            problems.add(
                ("former_upn",), "inconsistent", "the former UPN is the current UPN", self.former_upn
            )
        problems.duplicates(self.nationalities, "nationalities")
        if self.is_fsm and self.is_fsm6 is False:
            problems.add(("is_fsm6",), "inconsistent", "a pupil eligible for FSM now is FSM6", self.is_fsm6)
        if self.in_care and self.ever_in_care is False:
            problems.add(("ever_in_care",), "inconsistent", "a pupil in care has been in care", False)
        _check_periods(problems, self.fsm_periods, "fsm_periods")
        _check_periods(problems, self.pp_periods, "pp_periods")
        _check_sen(problems, self.sen_provision, self.sen_needs)
        problems.raise_if_any(type(self))
        return self


def _check_periods(problems: _Problems, periods: Sequence[DatePeriod], field: str) -> None:
    for later in range(len(periods)):
        if any(_overlap(periods[earlier], periods[later]) for earlier in range(later)):
            problems.add(
                (field, later, "start_date"),
                "overlap",
                "this period overlaps an earlier one",
                periods[later].start_date,
            )


def _check_sen(problems: _Problems, provision: str | None, needs: Sequence[SenNeed]) -> None:
    for index, need in enumerate(needs):
        if provision is not None and not codes.sen_need_allowed_with_provision(need.type_code, provision):
            message = (
                "a pupil with no special educational need has no type of need"
                if provision == "N"
                else "NSA is only valid with SEN provision K"
            )
            problems.add(("sen_needs", index, "type_code"), "inconsistent", message, need.type_code)
        if any(other.rank == need.rank and _overlap(other, need) for other in needs[:index]):
            problems.add(("sen_needs", index, "rank"), "duplicate", "another need has this rank", need.rank)


class ContactRecord(MisRecord):
    id: RecordId
    title: Line20 | None = None
    first_name: Line100 | None = None
    last_name: Line100
    emails: list[Email] = Field(default_factory=list, max_length=10)
    telephone_numbers: list[TelephoneNumber] = Field(default_factory=list, max_length=10)
    address: Address | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        problems.duplicates(self.emails, "emails")
        problems.raise_if_any(type(self))
        return self


class StudentContactRecord(MisRecord):
    id: RecordId
    student_id: RecordId
    contact_id: RecordId
    relationship_type: Line50 | None = None
    priority: int | None = Field(default=None, ge=1, le=99)
    parental_responsibility: bool | None = None


# --- Staff ----------------------------------------------------------------------------------------------


class StaffRecord(MisRecord):
    # staff.basic
    id: RecordId
    mis_id: RecordId | None = None
    staff_code: StaffCode | None = None
    title: Line20 | None = None
    first_name: Line100
    last_name: Line100
    work_email: Email | None = None
    is_teaching_staff: bool | None = None
    start_date: date | None = None
    end_date: date | None = None
    # staff.personal
    dob: date | None = None
    gender: Gender | None = None
    ethnicity_code: EthnicityCode | None = None
    disability: bool | None = None
    home_address: Address | None = None
    personal_phone: Phone | None = None

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Self:
        problems = _Problems()
        problems.date_order(self.start_date, self.end_date, ("end_date",))
        problems.dob(self.dob, self.start_date, _today(info), STAFF_AGE_RANGE)
        problems.raise_if_any(type(self))
        return self


# --- Attendance -----------------------------------------------------------------------------------------


class AttendanceSessionRecord(MisRecord):
    id: RecordId
    student_id: RecordId
    session_date: date
    session_name: Session
    attendance_mark: AttendanceMark
    minutes_late: int | None = Field(default=None, ge=0, le=300)

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        mark = self.attendance_mark
        if not codes.is_attendance_code_valid_on(mark, self.session_date):
            if mark in codes.RETIRED_ATTENDANCE_CODES:
                problems.add(
                    ("attendance_mark",),
                    "retired_code",
                    "this attendance code was withdrawn on 19 August 2024",
                    mark,
                )
            else:
                problems.add(
                    ("attendance_mark",),
                    "invalid_code",
                    "this attendance code is only valid from 19 August 2024",
                    mark,
                )
        if self.minutes_late is not None and mark not in {"L", "U"}:
            problems.add(
                ("minutes_late",), "inconsistent", "minutes late go only with mark L or U", self.minutes_late
            )
        problems.raise_if_any(type(self))
        return self


class AttendanceSummaryRecord(MisRecord):
    id: RecordId
    student_id: RecordId
    academic_year_id: RecordId
    possible_sessions: SessionCount
    attended_sessions: SessionCount
    late_sessions: SessionCount
    authorised_absence_sessions: SessionCount
    unauthorised_absence_sessions: SessionCount

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        absent = self.authorised_absence_sessions + self.unauthorised_absence_sessions
        if self.attended_sessions + absent > self.possible_sessions:
            problems.add(
                ("possible_sessions",),
                "inconsistent",
                "attended and absent sessions add up to more than the possible sessions",
                self.possible_sessions,
            )
        if self.late_sessions > self.attended_sessions + self.unauthorised_absence_sessions:
            problems.add(
                ("late_sessions",),
                "inconsistent",
                "late sessions exceed attended and unauthorised sessions",
                self.late_sessions,
            )
        problems.raise_if_any(type(self))
        return self


# --- Assessment -----------------------------------------------------------------------------------------


class AssessmentRecord(MisRecord):
    id: RecordId
    name: Line200
    family: Line100 | None = None


class ResultRecord(MisRecord):
    id: RecordId
    student_id: RecordId
    assessment_id: RecordId
    subject_id: RecordId | None = None
    grade: Line50
    result_date: date | None = None


# --- Exclusions -----------------------------------------------------------------------------------------


class ExclusionRecord(MisRecord):
    id: RecordId
    student_id: RecordId
    exclusion_type: ExclusionType
    reason_codes: list[Annotated[ExclusionReason, AfterValidator(_exclusion_reason)]] = Field(
        min_length=1, max_length=3
    )
    start_date: date
    start_session: Session | None = None
    end_date: date | None = None
    end_session: Session | None = None
    length_sessions: int | None = Field(default=None, ge=0, le=MAX_SESSIONS)

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = _Problems()
        problems.duplicates(self.reason_codes, "reason_codes")
        for index, reason in enumerate(self.reason_codes):
            if not codes.is_exclusion_reason_valid_on(reason, self.start_date):
                problems.add(
                    ("reason_codes", index),
                    "retired_code",
                    "this exclusion reason was withdrawn in 2020",
                    reason,
                )
        problems.date_order(self.start_date, self.end_date, ("end_date",))
        if self.end_session is not None and self.end_date is None:
            problems.add(
                ("end_session",), "inconsistent", "an end session needs an end date", self.end_session
            )
        if self.end_date == self.start_date and self.start_session == "PM" and self.end_session == "AM":
            problems.add(
                ("end_session",), "date_order", "the exclusion ends before it starts", self.end_session
            )
        if (
            self.exclusion_type == "FIXD"
            and self.length_sessions is not None
            and self.length_sessions > MAX_SUSPENSION_SESSIONS
        ):
            problems.add(
                ("length_sessions",),
                "inconsistent",
                "a suspension lasts at most 45 school days",
                self.length_sessions,
            )
        problems.raise_if_any(type(self))
        return self


RECORD_MODELS: Final[Mapping[str, type[BaseModel]]] = MappingProxyType(
    {
        "school": SchoolRecord,
        "academic_years": AcademicYearRecord,
        "subjects": SubjectRecord,
        "groups": GroupRecord,
        "students": StudentRecord,
        "contacts": ContactRecord,
        "student_contacts": StudentContactRecord,
        "staff": StaffRecord,
        "attendance_sessions": AttendanceSessionRecord,
        "attendance_summaries": AttendanceSummaryRecord,
        "assessments": AssessmentRecord,
        "results": ResultRecord,
        "exclusions": ExclusionRecord,
    }
)
