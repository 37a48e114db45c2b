"""Errors a person can act on: said in Chinese and English, naming the field."""


class InputError(ValueError):
    """A bad input, said in Chinese and in English, naming the field."""

    def __init__(self, field: str, zh: str, en: str):
        super().__init__(f"{field}: {en}")
        self.field, self.zh, self.en = field, zh, en

    def one_line(self) -> str:
        return f"错误：字段 {self.field}：{self.zh} | error: field {self.field}: {self.en}"
