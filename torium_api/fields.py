"""Schema building blocks shared by every domain's schemas."""

import re

import marshmallow as ma

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers
_ASCII_INTEGER = re.compile(r"-?[0-9]{1,20}")  # str.isdigit() and int() also take "²", "١٢" and "１２"
ASCII_SPACE = " \t\n\r\f\v"  # str.strip() would also take U+00A0, U+2003, U+3000...


class StrictSchema(ma.Schema):
    """Request bodies: unknown fields are errors, not silently dropped."""

    class Meta:
        unknown = ma.RAISE


class FlexibleInteger(ma.fields.Integer):
    """An id the Flutter app may send as a string ("12"); never a float, a bool or a fraction."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool | float):
            raise self.make_error("invalid")
        if isinstance(value, str):
            text = value.strip(ASCII_SPACE)
            if not _ASCII_INTEGER.fullmatch(text):  # ASCII digits only, and few enough for int() to be cheap
                raise self.make_error("invalid")
            value = int(text)
        return super()._deserialize(value, attr, data, **kwargs)


class FullMatch(ma.validate.Regexp):
    r"""``Regexp`` where the whole value must match: Python's ``$`` also matches before a final newline, so
    ``Regexp(r"^[A-Z]{2}$")`` lets ``"PL\n"`` through (and a 50-character pattern a 51-character value into a
    ``varchar(50)``). Write patterns with ``[0-9]``, not ``\d`` (which takes any Unicode digit in Python): the
    spec shows the same pattern to clients, whose regex engines read it as ASCII."""

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class RenderedList(ma.fields.List):
    """A list a service already rendered as JSON-ready dicts of exactly the inner schema's fields.

    Documented like ``List(Nested(...))``; dumped as is, because re-serializing a page of plain dicts
    (100 events with 2,000 members) through marshmallow costs more than the queries that read them.
    Used by ``web.envelope_schema`` for schemas marked ``RENDERED_BY_SERVICE``; the response-schema tests
    (schemathesis) and a field-by-field test still check what is sent.
    """

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class StrictBoolean(ma.fields.Boolean):
    """A JSON body boolean: true or false, not "yes", 1 or "on"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value

