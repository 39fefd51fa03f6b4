from tests.helpdesk.conftest import manage


def test_debug_off_without_secret_key_refuses_to_start_with_one_line(production_env):
    env = {**production_env}
    del env["SECRET_KEY"]

    result = manage(env, "check", check=False)

    assert result.returncode != 0
    message = result.stderr.strip()
    assert message.count("\n") == 0, message
    assert "SECRET_KEY" in message and "DEBUG is off" in message


def test_production_settings_pass_check_deploy_without_warnings(production_env):
    env = {**production_env, "ALLOWED_HOSTS": "helpdesk.example.com"}
    env.pop("SECURE_SSL_REDIRECT")

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING", check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_malformed_boolean_is_refused_clearly(production_env):
    result = manage({**production_env, "DEBUG": "maybe"}, "check", check=False)

    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr
