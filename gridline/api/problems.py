"""Every API error as RFC 9457 problem details (application/problem+json), in Chinese and English,
naming the field where one is at fault; never a traceback (an unexpected error is a generic 500,
its traceback in the server's log only)."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridline.web.security import BodyTooLarge, unavailable
from models.core.errors import InputError, StepFormError, zh_of

log = logging.getLogger("gridline.api")
MEDIA = "application/problem+json"
INVALID = "urn:gridline:problem:invalid-input"
TITLES = {
    400: ("请求无效", "Bad request"), 401: ("未认证", "Unauthorized"),
    403: ("无权访问", "Forbidden"), 404: ("未找到", "Not found"),
    405: ("不支持的方法", "Method not allowed"), 409: ("冲突", "Conflict"),
    413: ("请求内容过大", "Payload too large"), 415: ("不支持的内容类型", "Unsupported media type"),
    422: ("输入无效", "Invalid input"), 429: ("请求过于频繁", "Too many requests"),
    500: ("系统内部错误", "Internal server error"),
    503: ("系统暂时不可用", "Service unavailable"),
}
SOURCES = ("body", "query", "path", "header")


class Problem(Exception):
    def __init__(self, status: int, zh: str, en: str, field: str | None = None,
                 headers: dict[str, str] | None = None, type_: str = "about:blank"):
        super().__init__(en)
        self.status, self.zh, self.en, self.field = status, zh, en, field
        self.headers, self.type = headers or {}, type_


def problem_response(status: int, zh: str = "", en: str = "", *, field: str | None = None,
                     errors: list[dict] | None = None, headers: dict[str, str] | None = None,
                     type_: str = "about:blank", instance: str | None = None) -> JSONResponse:
    title_zh, title_en = TITLES.get(status, ("错误", "Error"))
    zh, en = zh or title_zh, en or title_en
    body = {"type": type_, "title": f"{title_zh} | {title_en}", "status": status,
            "detail": f"{zh} | {en}", "zh": zh, "en": en}
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA)


def input_problem(error: InputError, status: int = 422) -> JSONResponse:
    if isinstance(error, StepFormError):  # a form: every bad field, the first one named
        return problem_response(status, error.zh, error.en, field=next(iter(error.errors)),
                                errors=[{"field": f, "zh": m} for f, m in error.errors.items()],
                                type_=INVALID)
    return problem_response(status, f"字段 {error.field}：{error.zh}",
                            f"field {error.field}: {error.en}", field=error.field, type_=INVALID)


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    found = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"] if p not in SOURCES] or ["body"]
        found.append({"field": ".".join(loc), "zh": zh_of(error["type"], error.get("ctx")),
                      "en": error["msg"]})
    return found


def install(api: FastAPI) -> None:
    @api.exception_handler(Problem)
    def refused(request: Request, exc: Problem):
        return problem_response(exc.status, exc.zh, exc.en, field=exc.field,
                                headers=exc.headers, type_=exc.type)

    @api.exception_handler(InputError)
    def invalid(request: Request, exc: InputError):
        return input_problem(exc)

    @api.exception_handler(RequestValidationError)
    def malformed(request: Request, exc: RequestValidationError):
        errors = _validation_errors(exc)
        first = errors[0]
        return problem_response(422, f"字段 {first['field']}：{first['zh']}",
                                f"field {first['field']}: {first['en']}", field=first["field"],
                                errors=errors, type_=INVALID)

    @api.exception_handler(StarletteHTTPException)
    def http(request: Request, exc: StarletteHTTPException):
        return problem_response(exc.status_code)

    @api.exception_handler(BodyTooLarge)
    def too_large(request: Request, _exc: BodyTooLarge):
        return problem_response(413, headers={"connection": "close"})

    @api.exception_handler(DBAPIError)
    def database(request: Request, exc: DBAPIError):
        if unavailable(exc):
            log.warning("database unavailable: %s", exc.orig)
            return problem_response(503, "数据库无法访问或只读，请稍后重试",
                                    "the database is unavailable or read-only; retry later")
        if isinstance(exc, DataError):
            return problem_response(422, "数据超出允许范围", "a value the database cannot hold",
                                    type_=INVALID)
        log.error("database error", exc_info=exc)
        return problem_response(500)

    @api.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception):
        log.error("unexpected API error", exc_info=exc)
        return problem_response(500, "系统内部错误，已记录", "internal error, logged")
