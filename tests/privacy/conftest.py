from tests.privacy.audit_support import clock  # noqa: F401 - fixture
