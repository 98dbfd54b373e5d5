"""Schema building blocks shared by every domain's schemas."""

import marshmallow as ma


class StrictSchema(ma.Schema):
    """Request bodies: unknown fields are errors, not silently dropped."""

    class Meta:
        unknown = ma.RAISE


class FlexibleInteger(ma.fields.Integer):
    """An id the Flutter app may send as a string ("12"); never a float, a bool or a fraction."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", ma.validate.Range(min=1, max=2**31 - 1))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool | float):
            raise self.make_error("invalid")
        if isinstance(value, str):
            if not value.strip().lstrip("-").isdigit():
                raise self.make_error("invalid")
            value = int(value.strip())
        return super()._deserialize(value, attr, data, **kwargs)


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

