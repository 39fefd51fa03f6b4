"""Upload checks: size, programs by name and by content, sniffed types, clean names, headers."""

from urllib.parse import unquote

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from tests.tickets import attachment_samples as samples
from tickets.attachments import (
    DOWNLOAD_CONTENT_TYPE,
    ERROR_BLOCKED_CONTENT,
    ERROR_BLOCKED_EXTENSION,
    ERROR_CHOOSE_AGAIN,
    ERROR_EMPTY,
    ERROR_TOO_LARGE,
    ERROR_TOO_MANY,
    FILENAME_MAX_LENGTH,
    MAX_FILES_PER_SUBMISSION,
    AttachmentsField,
    content_disposition,
    sanitize_filename,
    served_content_type,
    sniff_content_type,
    validate_upload,
    validate_uploads,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def messages_of(error: ValidationError) -> list[str]:
    return list(error.messages)


# -- Sniffing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (samples.png_bytes(), "image/png"),
        (samples.JPEG, "image/jpeg"),
        (samples.GIF, "image/gif"),
        (samples.WEBP, "image/webp"),
        (samples.PDF, "application/pdf"),
        (samples.TEXT, "text/plain"),
        (samples.HTML, "text/html"),
        (samples.HTML_FRAGMENT, "text/html"),
        (samples.SVG, "image/svg+xml"),
        (samples.zip_bytes({"a.txt": b"x"}), "application/zip"),
        (samples.docx_bytes(), DOCX),
        (samples.xlsx_bytes(), XLSX),
        (bytes(range(256)) * 4, DOWNLOAD_CONTENT_TYPE),
    ],
    ids=[
        "png",
        "jpeg",
        "gif",
        "webp",
        "pdf",
        "text",
        "html",
        "html-fragment",
        "svg",
        "zip",
        "docx",
        "xlsx",
        "binary",
    ],
)
def test_sniffer_names_common_types_by_their_first_bytes(content, expected):
    upload = samples.upload("whatever.bin", content)
    assert validate_upload(upload).content_type == expected


def test_stored_type_is_the_sniffed_one_never_the_browser_claim():
    upload = samples.upload("notes.pdf", samples.TEXT, content_type="application/pdf")
    assert validate_upload(upload).content_type == "text/plain"


def test_html_renamed_png_is_not_an_image():
    upload = samples.upload("cat.png", samples.HTML, content_type="image/png")
    cleaned = validate_upload(upload)
    assert cleaned.content_type == "text/html"
    assert served_content_type(cleaned.content_type) == DOWNLOAD_CONTENT_TYPE


def test_png_header_followed_by_html_is_not_an_image():
    polyglot = samples.png_bytes()[:33] + b"<html><script>alert(1)</script></html>"
    cleaned = validate_upload(samples.upload("cat.png", polyglot, content_type="image/png"))
    assert cleaned.content_type == "text/html"
    assert sniff_content_type(samples.png_bytes()) == "image/png"


def test_svg_is_never_served_as_itself():
    assert served_content_type("image/svg+xml") == DOWNLOAD_CONTENT_TYPE
    assert served_content_type("text/html") == DOWNLOAD_CONTENT_TYPE
    assert served_content_type("text/plain") == DOWNLOAD_CONTENT_TYPE
    assert served_content_type("image/png") == "image/png"
    assert served_content_type("application/pdf") == "application/pdf"


# -- Size -------------------------------------------------------------------------------------


def test_too_large_file_is_refused_with_the_limit_in_the_message(settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as caught:
        validate_upload(samples.upload("big.txt", b"a" * 1025))
    assert messages_of(caught.value) == [
        ERROR_TOO_LARGE.format(name="big.txt", size="1.0\xa0KB", limit="1.0\xa0KB")
    ]
    assert caught.value.code == "too_large"


def test_file_exactly_at_the_limit_is_accepted(settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    assert validate_upload(samples.upload("ok.txt", b"a" * 1024)).size == 1024


def test_limit_is_read_when_checking_not_at_import(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError):
        validate_upload(samples.upload("small.txt", b"a" * 11))
    settings.ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
    assert validate_upload(samples.upload("small.txt", b"a" * 11)).size == 11


def test_empty_file_is_refused():
    with pytest.raises(ValidationError) as caught:
        validate_upload(samples.upload("empty.txt", b""))
    assert messages_of(caught.value) == [ERROR_EMPTY.format(name="empty.txt")]


# -- Programs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "setup.exe",
        "SETUP.EXE",
        "a.msi",
        "run.bat",
        "run.cmd",
        "x.com",
        "s.scr",
        "app.js",
        "v.vbs",
        "p.ps1",
        "install.sh",
        "tool.jar",
        "app.apk",
        "lib.dll",
        "invoice.pdf.exe",
        "evil.exe.",
        "evil.exe  ",
    ],
)
def test_blocked_extensions_are_refused_whatever_the_content(name):
    with pytest.raises(ValidationError) as caught:
        validate_upload(samples.upload(name, samples.TEXT))
    ext = sanitize_filename(name).rsplit(".", 1)[1].lower()
    assert messages_of(caught.value) == [
        ERROR_BLOCKED_EXTENSION.format(name=sanitize_filename(name), ext=ext)
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", samples.EXE),
        ("photo.png", samples.ELF),
        ("notes.txt", samples.SHEBANG),
        ("image.jpg", samples.MACHO),
        ("archive.zip", samples.jar_bytes()),
    ],
    ids=["mz", "elf", "shebang", "mach-o", "jar-in-zip"],
)
def test_programs_are_refused_by_their_first_bytes_whatever_the_name(name, content):
    with pytest.raises(ValidationError) as caught:
        validate_upload(samples.upload(name, content))
    assert messages_of(caught.value) == [ERROR_BLOCKED_CONTENT.format(name=name)]
    assert caught.value.code == "blocked_content"


def test_text_that_happens_to_start_with_mz_is_not_a_program():
    assert validate_upload(samples.upload("codes.csv", b"MZ,Mozambique\nNL,Netherlands\n")).content_type == (
        "text/plain"
    )


# -- Names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("C:\\Users\\ann\\report.pdf", "report.pdf"),
        ("inv\r\noice.pdf", "inv oice.pdf"),
        ("evil\r\nContent-Type: x.txt", "evil Content-Type_ x.txt"),
        ("evil\r\nContent-Type: text/html.txt", "html.txt"),
        ('say "hi".txt', "say _hi_.txt"),
        ("it's.txt", "it_s.txt"),
        ("null\x00byte.png", "nullbyte.png"),
        ("rtl\u202egnp.exe", "rtlgnp.exe"),
        ("   .hidden", "hidden"),
        ("..", "attachment"),
        ("", "attachment"),
        (".pdf", "pdf"),
        ("CON.txt", "_CON.txt"),
        ("Überweisung März.pdf", "Überweisung März.pdf"),
        ("写真.jpg", "写真.jpg"),
    ],
)
def test_sanitize_filename(raw, clean):
    assert sanitize_filename(raw) == clean


def test_long_names_are_shortened_keeping_the_extension():
    name = sanitize_filename("a" * 400 + ".docx")
    assert len(name) == FILENAME_MAX_LENGTH
    assert name.endswith("a.docx")


def test_validated_upload_carries_the_clean_name():
    cleaned = validate_upload(samples.upload("../secret\n.txt", samples.TEXT))
    assert cleaned.name == "secret.txt"


# -- Content-Disposition ----------------------------------------------------------------------


def test_content_disposition_has_ascii_fallback_and_utf8_name():
    header = content_disposition("Überweisung März 写真.pdf")
    assert header.startswith('attachment; filename="Uberweisung Marz __.pdf"; ')
    star = header.split("filename*=", 1)[1]
    assert star.startswith("UTF-8''")
    assert unquote(star[len("UTF-8''") :]) == "Überweisung März 写真.pdf"
    assert header.isascii()


def test_content_disposition_cannot_be_broken_by_quotes_or_newlines():
    header = content_disposition('a";\r\nSet-Cookie: x=1.png', inline=True)
    assert "\r" not in header and "\n" not in header
    assert header.startswith('inline; filename="a__ Set-Cookie_ x=1.png"; ')
    assert header.count('"') == 2


def test_content_disposition_of_a_name_with_no_ascii_letters():
    header = content_disposition("写真.jpg")
    assert 'filename="download.jpg"' in header


# -- Several files and the form field ---------------------------------------------------------


def test_validate_uploads_lists_every_problem_and_asks_for_the_files_again():
    files = [
        samples.upload("ok.txt", samples.TEXT),
        samples.upload("setup.exe", samples.EXE),
        samples.upload("fake.pdf", samples.ELF),
    ]
    with pytest.raises(ValidationError) as caught:
        validate_uploads(files)
    assert messages_of(caught.value) == [
        ERROR_BLOCKED_EXTENSION.format(name="setup.exe", ext="exe"),
        ERROR_BLOCKED_CONTENT.format(name="fake.pdf"),
        ERROR_CHOOSE_AGAIN,
    ]


def test_validate_uploads_limits_the_number_of_files():
    files = [samples.upload(f"f{i}.txt", samples.TEXT) for i in range(MAX_FILES_PER_SUBMISSION + 1)]
    with pytest.raises(ValidationError) as caught:
        validate_uploads(files)
    assert messages_of(caught.value)[0] == ERROR_TOO_MANY.format(max=MAX_FILES_PER_SUBMISSION)


class ReplyForm(forms.Form):
    subject = forms.CharField()
    body = forms.CharField(widget=forms.Textarea)
    attachments = AttachmentsField()


def test_field_accepts_several_files_and_cleans_them():
    files = MultiValueDict(
        {"attachments": [samples.upload("a.png", samples.png_bytes()), samples.upload("b.pdf", samples.PDF)]}
    )
    form = ReplyForm(data={"subject": "Printer", "body": "Broken"}, files=files)
    assert form.is_valid(), form.errors
    cleaned = form.cleaned_data["attachments"]
    assert [(c.name, c.content_type) for c in cleaned] == [
        ("a.png", "image/png"),
        ("b.pdf", "application/pdf"),
    ]


def test_field_is_optional_and_cleans_to_an_empty_list():
    form = ReplyForm(data={"subject": "Printer", "body": "Broken"}, files=MultiValueDict())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["attachments"] == []


def test_rejected_upload_keeps_the_rest_of_the_form():
    files = MultiValueDict({"attachments": [samples.upload("setup.exe", samples.EXE)]})
    form = ReplyForm(data={"subject": "Printer on floor 3", "body": "It prints <blank> pages"}, files=files)
    assert not form.is_valid()
    assert form.errors["attachments"] == [
        ERROR_BLOCKED_EXTENSION.format(name="setup.exe", ext="exe"),
        ERROR_CHOOSE_AGAIN,
    ]
    html = form.as_div()
    assert 'value="Printer on floor 3"' in html
    assert "It prints &lt;blank&gt; pages" in html
    assert "multiple" in str(form["attachments"])


def test_field_help_text_states_the_limit(settings):
    settings.ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    assert "5.0\xa0MB" in str(ReplyForm()["attachments"].help_text)


def test_widget_carries_the_limits_for_the_browser_check(settings):
    settings.ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    html = str(ReplyForm()["attachments"])
    assert 'type="file"' in html and "multiple" in html
    assert 'data-max-bytes="2097152"' in html
    assert f'data-max-files="{MAX_FILES_PER_SUBMISSION}"' in html
    assert "exe" in html.split('data-blocked="', 1)[1].split('"', 1)[0].split()
