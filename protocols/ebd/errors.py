"""EBD refusals, each carrying the EBDResponse ResultCode a receiver answers with.

EbdError                          (protocols.errors)
└── EbdResultError                result_code 5 unless a subclass says otherwise
    ├── EbdParseError             2  not XML, unsafe XML, unknown or mismatched EBDType
    ├── EbdFieldError             one element at ``path``
    │   ├── EbdMissingDataError   3  a required element or value is absent
    │   └── EbdInvalidValueError  2  a value that does not parse or breaks a rule
    └── PackageError              5  the tar package
        ├── PackageFormatError    2  not an uncompressed tar, or truncated
        ├── PackageMissingBodyError 3 no EBDB_<EBDID>.xml
        ├── PackageUnsafeMemberError 5 traversal, absolute path, link, device, directory
        ├── PackageLimitError     5  too big, too many members
        └── PackageNameError      5  duplicate names, names not matching the EBDID
"""

from __future__ import annotations

from protocols.ebd.enums import ResultCode
from protocols.errors import EbdError


class EbdResultError(EbdError):
    result_code: ResultCode = ResultCode.OTHER_ERROR


class EbdParseError(EbdResultError):
    code = "ebd-parse-failure"
    result_code = ResultCode.PARSE_FAILURE


class EbdFieldError(EbdResultError):
    """``path`` is an element path like ``EBD/EBM/MsgContent[0]/AreaCode``."""

    def __init__(self, path: str, problem: str, *, code: str | None = None) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}", code=code)

    def under(self, prefix: str) -> EbdFieldError:
        """The same error seen from an enclosing element."""
        moved = type(self)(f"{prefix}/{self.path}", self.problem, code=self.code)
        moved.__cause__ = self.__cause__
        return moved


class EbdMissingDataError(EbdFieldError):
    code = "ebd-missing-data"
    result_code = ResultCode.MISSING_DATA


class EbdInvalidValueError(EbdFieldError):
    code = "ebd-invalid-value"
    result_code = ResultCode.PARSE_FAILURE


class PackageError(EbdResultError):
    code = "ebd-package-invalid"


class PackageFormatError(PackageError):
    code = "ebd-package-unreadable"
    result_code = ResultCode.PARSE_FAILURE


class PackageMissingBodyError(PackageError):
    code = "ebd-package-missing-body"
    result_code = ResultCode.MISSING_DATA


class PackageUnsafeMemberError(PackageError):
    code = "ebd-package-unsafe-member"


class PackageLimitError(PackageError):
    code = "ebd-package-too-large"


class PackageNameError(PackageError):
    code = "ebd-package-bad-name"
