"""helpdesk/form_rendering.py writes the same HTML as Django's widget templates, faster."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from helpdesk.fixed_choices import FixedChoices
from helpdesk.form_rendering import FastWidgetsRenderer, KeptSelect
from workspaces.models import User

CHOICES = [("", "—"), ("a", "A & <b>"), ("b", 'Quote "b"'), (3, "Three")]
GROUPED = [("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Zed")]


class Everything(forms.Form):
    text = forms.CharField(help_text="help", max_length=20)
    email = forms.EmailField(required=False)
    number = forms.IntegerField(min_value=0)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    area = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "data-x": 'a"b<c>'}))
    check = forms.BooleanField(required=False)
    choice = forms.ChoiceField(choices=CHOICES)
    grouped = forms.ChoiceField(choices=GROUPED, required=False)
    many = forms.MultipleChoiceField(choices=CHOICES[1:], required=False)
    upload = forms.FileField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    date = forms.DateField(required=False)


def both(form_class, *args, **kwargs):
    rendered = []
    for renderer in (DjangoTemplates(), FastWidgetsRenderer()):
        form = form_class(*args, renderer=renderer, **kwargs)
        rendered.append({name: str(form[name]) for name in form.fields})
    return rendered


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"text": "<script>&amp;", "number": "x", "choice": "b", "grouped": "y", "many": ["a", 3], "area": ""},
        {
            "text": "ok",
            "email": "a@b.test",
            "number": "4",
            "choice": "3",
            "check": "on",
            "area": "</textarea>",
        },
    ],
)
def test_each_widget_renders_as_django_s_templates_do(data):
    django_html, fast_html = both(Everything, data)
    assert fast_html == django_html


def test_initial_values_and_attributes_render_the_same():
    initial = {"text": 'a "quoted" <value>', "number": 0, "area": "x & y", "choice": 3, "date": "2026-01-02"}
    django_html, fast_html = both(Everything, initial=initial, auto_id="f_%s")
    assert fast_html == django_html


@pytest.mark.django_db
def test_model_choices_render_the_same():
    User.objects.create_user(email="ann@example.test", password="pw-long-enough-1", display_name="Ann <&>")

    class People(forms.Form):
        person = forms.ModelChoiceField(queryset=User.objects.order_by("pk"), empty_label="Nobody")
        people = forms.ModelMultipleChoiceField(queryset=User.objects.order_by("pk"), required=False)

    django_html, fast_html = both(People, {"person": "1"})
    assert fast_html == django_html


def test_a_widget_it_does_not_know_goes_through_the_templates():
    renderer = FastWidgetsRenderer()
    html = forms.RadioSelect(choices=CHOICES).render("radio", "a", renderer=renderer)
    assert html == forms.RadioSelect(choices=CHOICES).render("radio", "a", renderer=DjangoTemplates())
    assert isinstance(html, SafeString)


def test_the_site_uses_it(settings):
    assert settings.FORM_RENDERER == "helpdesk.form_rendering.FastWidgetsRenderer"


def test_the_plain_widgets_use_no_template(monkeypatch):
    renderer = FastWidgetsRenderer()
    assert renderer._own_templates  # worked out once, from the templates' origins

    def no_template(name):
        raise AssertionError(f"{name} was rendered as a template")

    monkeypatch.setattr(renderer, "get_template", no_template)
    form = Everything({"choice": "a", "many": ["b"]}, renderer=renderer)
    for name in (
        "text",
        "email",
        "number",
        "hidden",
        "area",
        "check",
        "choice",
        "grouped",
        "many",
        "password",
        "date",
    ):
        assert str(form[name])


# KeptSelect: a select of fixed choices rendered once per everything it is made of ----------------


class Filters(forms.Form):
    status = forms.ChoiceField(
        choices=FixedChoices([("", gettext_lazy("Any status")), ("open", "Open & <new>")]),
        required=False,
        widget=KeptSelect,
    )


def _plain_select_html(form_data, *, choices=None, auto_id="id_%s"):
    class Plain(forms.Form):
        status = forms.ChoiceField(
            choices=choices or Filters.base_fields["status"].choices, required=False, widget=forms.Select
        )

    return str(Plain(form_data, auto_id=auto_id)["status"])


@pytest.fixture
def counted_renders(monkeypatch):
    from helpdesk import form_rendering

    monkeypatch.setattr(form_rendering, "_kept_selects", {})
    calls = []
    real = forms.Select.render

    def counting(self, *args, **kwargs):
        if isinstance(self, KeptSelect):
            calls.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(forms.Select, "render", counting)
    return calls


def test_a_kept_select_is_rendered_once_and_then_shown_as_it_was(counted_renders):
    first = str(Filters({"status": "open"})["status"])
    again = str(Filters({"status": "open"})["status"])
    assert first == again == _plain_select_html({"status": "open"})
    assert 'value="open" selected' in first
    assert len(counted_renders) == 1
    assert isinstance(Filters({"status": "open"})["status"].as_widget(), SafeString)


def test_a_kept_select_follows_its_value_choices_language_and_id(counted_renders):
    assert 'value="open" selected' in str(Filters({"status": "open"})["status"])
    assert str(Filters({"status": ""})["status"]) == _plain_select_html({"status": ""})
    assert 'value="open" selected' not in str(Filters({"status": ""})["status"])
    assert str(Filters({"status": "open"}, auto_id="f_%s")["status"]) == _plain_select_html(
        {"status": "open"}, auto_id="f_%s"
    )
    assert 'id="f_status"' in str(Filters({"status": "open"}, auto_id="f_%s")["status"])
    with translation.override("de"):
        german = str(Filters(None)["status"])
    assert "Jeder Status" in german
    assert "Any status" in str(Filters(None)["status"])
    other = Filters({"status": "pending"})
    other.fields["status"].choices = FixedChoices([("", "Any"), ("pending", "Pending")])
    html = str(other["status"])
    assert 'value="pending" selected' in html and "Open &amp;" not in html
    # No status and an empty one are the same select; each other one was rendered once.
    assert len(counted_renders) == 5


def test_a_select_of_other_choices_is_not_kept(counted_renders):
    class Listed(forms.Form):
        status = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=KeptSelect)

    assert str(Listed({"status": "a"})["status"]) == str(Listed({"status": "a"})["status"])
    assert len(counted_renders) == 2
