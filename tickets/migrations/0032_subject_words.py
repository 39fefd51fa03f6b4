"""The subject search's ordered index: one row per distinct word of each ticket's subject
(tickets.models.SubjectWord), kept in step by triggers on PostgreSQL.

The words are the lexemes of ``to_tsvector('simple', subject)``, the text vector the subject's
full-text index holds (0011, 0024), so a word found here is a word the full-text search finds.
The retention marker has none (as the full-text index leaves it out, 0024).

Statement-level triggers with transition tables: retention anonymizes thousands of subjects in
one UPDATE, and a bulk insert is one INSERT, which the insert trigger follows with one INSERT.
An UPDATE that leaves every subject as it was writes nothing. (A trigger with transition tables
cannot be limited to one column, so it fires on every UPDATE of tickets and compares old and new
subjects.) The rows of a changed or deleted ticket are deleted ticket by ticket through the
primary key: one DELETE joining the transition tables to the word table was planned as a hash
join over the whole table (they have no statistics), 4.9 million rows read for every batch of
retention at a million tickets. Ticket by ticket, a retention batch of 2,000 subjects took
225 ms where the UPDATE alone took 147 (100k tickets).

The rows of the tickets already there are filled in here, and the primary key's index built
after them in one sorted pass (at a million tickets, 4.9 million rows in about 13 s; the index
is 196 MB, where filled row by row it was 349 MB).
"""

from django.db import migrations, models

import tickets.models

MARKER = "[Removed by retention policy]"  # tickets.markers.RETENTION_SUBJECT, as of this migration

WORDS_ARRAY = "tsvector_to_array(to_tsvector('simple'::regconfig, {subject}::text))"
WORDS_OF = "unnest(" + WORDS_ARRAY.format(subject="{row}.subject") + ") AS w(word)"

FORWARDS = f"""
CREATE FUNCTION tickets_subject_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tickets_subjectword (workspace_id, word, ticket_id)
    SELECT n.workspace_id, w.word, n.id FROM new_rows n CROSS JOIN LATERAL {WORDS_OF.format(row="n")}
    WHERE n.subject <> '{MARKER}';
    RETURN NULL;
END $$;

CREATE FUNCTION tickets_subject_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
BEGIN
    FOR changed IN
        SELECT o.workspace_id, o.id, o.subject AS old_subject, n.subject AS new_subject
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.subject IS DISTINCT FROM o.subject
    LOOP
        DELETE FROM tickets_subjectword
        WHERE workspace_id = changed.workspace_id AND ticket_id = changed.id
          AND word = ANY({WORDS_ARRAY.format(subject="changed.old_subject")});
        IF changed.new_subject <> '{MARKER}' THEN
            INSERT INTO tickets_subjectword (workspace_id, word, ticket_id)
            SELECT changed.workspace_id, w.word, changed.id
            FROM unnest({WORDS_ARRAY.format(subject="changed.new_subject")}) AS w(word);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION tickets_subject_words_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone record;
BEGIN
    FOR gone IN SELECT o.workspace_id, o.id, o.subject FROM old_rows o LOOP
        DELETE FROM tickets_subjectword
        WHERE workspace_id = gone.workspace_id AND ticket_id = gone.id
          AND word = ANY({WORDS_ARRAY.format(subject="gone.subject")});
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER tickets_subject_words_ai AFTER INSERT ON tickets_ticket
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_subject_words_inserted();
CREATE TRIGGER tickets_subject_words_au AFTER UPDATE ON tickets_ticket
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tickets_subject_words_updated();
CREATE TRIGGER tickets_subject_words_ad AFTER DELETE ON tickets_ticket
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_subject_words_deleted();

ALTER TABLE tickets_subjectword DROP CONSTRAINT tickets_subjectword_pkey;
INSERT INTO tickets_subjectword (workspace_id, word, ticket_id)
SELECT t.workspace_id, w.word, t.id FROM tickets_ticket t CROSS JOIN LATERAL {WORDS_OF.format(row="t")}
WHERE t.subject <> '{MARKER}';
ALTER TABLE tickets_subjectword ADD CONSTRAINT tickets_subjectword_pkey PRIMARY KEY (workspace_id, word, ticket_id);
"""

BACKWARDS = """
DROP TRIGGER IF EXISTS tickets_subject_words_ai ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_subject_words_au ON tickets_ticket;
DROP TRIGGER IF EXISTS tickets_subject_words_ad ON tickets_ticket;
DROP FUNCTION IF EXISTS tickets_subject_words_inserted();
DROP FUNCTION IF EXISTS tickets_subject_words_updated();
DROP FUNCTION IF EXISTS tickets_subject_words_deleted();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0031_ticket_status_counts_index")]

    operations = [
        migrations.CreateModel(
            name="SubjectWord",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "workspace_id", "word", "ticket_id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("workspace_id", models.BigIntegerField()),
                ("word", tickets.models.ByteOrderTextField()),
                ("ticket_id", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
