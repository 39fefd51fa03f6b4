"""helpdesk/storage.py: asking whether the storage is S3 does not load the S3 client when it is not."""

from django.core.files.storage import FileSystemStorage

from helpdesk.storage import is_s3
from tests.helpdesk.conftest import manage

ASK_AND_SAY_WHAT_LOADED = (
    "import sys;"
    "from django.core.files.storage import default_storage;"
    "from helpdesk.storage import delete_stored_file, is_s3;"
    "print('s3' if is_s3(default_storage) else 'local');"
    "delete_stored_file(storage=default_storage, name='attachments/none-such');"
    "print('boto3 loaded' if 'boto3' in sys.modules else 'boto3 not loaded')"
)


def test_a_local_storage_is_not_s3(tmp_path):
    assert is_s3(FileSystemStorage(location=tmp_path)) is False


def test_deleting_a_local_file_does_not_load_the_s3_client(production_env):
    # A process on local files (the embedded default) used to import boto3 on its first
    # deletion or download, only to answer "no": 0.2 s of a 2-second retention run.
    production_env.pop("S3_BUCKET", None)
    done = manage(production_env, "shell", "--no-imports", "-c", ASK_AND_SAY_WHAT_LOADED)
    assert done.stdout.split() == ["local", "boto3", "not", "loaded"], done.stderr[-2000:]
