import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError

from workspaces.models import User
from workspaces.personal_data import user_tombstones


@pytest.mark.django_db
def test_email_is_the_login_and_is_case_insensitive(rf):
    user = User.objects.create_user(email="Jane.Doe@Example.COM", password="s3cret-enough-pw")

    assert user.email == "jane.doe@example.com"
    assert not hasattr(user, "username")
    request = rf.post("/accounts/login/")
    assert authenticate(request, username="JANE.DOE@example.com", password="s3cret-enough-pw") == user


@pytest.mark.django_db
def test_two_accounts_cannot_share_an_email_in_any_case():
    User.objects.create_user(email="sam@example.com", password="x-password-1")
    with pytest.raises(IntegrityError):
        # Bypass the manager's normalisation: the database constraint itself must refuse.
        User.objects.bulk_create([User(email="SAM@example.com", password="x")])


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = User.objects.create_user(email="argon@example.com", password="argon-password-1")

    assert user.password.startswith("argon2$")


@pytest.mark.django_db
def test_tombstones_of_many_people_each_get_their_own_name_whatever_its_characters():
    names = ['Deleted user "A1"', "Deleted user \\B2 ü", "Deleted user C3 '; --"]
    users = [User.objects.create_user(email=f"t{n}@example.com", password="x-password-1") for n in range(3)]
    bystander = User.objects.create_user(email="stays@example.com", password="x-password-1")

    user_tombstones(users, labels={user.pk: name for user, name in zip(users, names, strict=True)})

    for user, name in zip(users, names, strict=True):
        row = User.objects.get(pk=user.pk)
        assert (row.display_name, row.is_active) == (name, False)
        assert row.email == f"erased-{user.pk}@erased.invalid"
        assert user.display_name == name
    assert User.objects.get(pk=bystander.pk).email == "stays@example.com"


@pytest.mark.django_db
def test_tombstoned_objects_in_hand_show_what_the_database_holds():
    users = [User.objects.create_user(email=f"h{n}@example.com", password="x-password-1") for n in range(2)]
    users[0].groups.add(Group.objects.create(name="g"))
    users[1].user_permissions.add(Permission.objects.first())
    fields = ["email", "display_name", "password", "is_active", "is_staff", "is_superuser"]
    fields += ["language", "time_zone", "last_login", "email_confirmed_at"]

    user_tombstones(users, labels={user.pk: f"Deleted user {user.pk}" for user in users})

    for user in users:
        row = User.objects.get(pk=user.pk)
        assert {f: getattr(user, f) for f in fields} == {f: getattr(row, f) for f in fields}
        assert not row.has_usable_password()
        assert not row.groups.exists() and not row.user_permissions.exists()
    assert users[0].password != users[1].password
