"""The four differences the table diff must find exactly at any size (bench/table_diff.py runs them at 10M rows),
here at small scale on real PostgreSQL and MariaDB: one changed row, one missing row, 1,000 scattered changed
rows, one column changed in every row (a per-column summary, not every key). Buckets are made small so the
paths the 10M-row tables take run here too: the bisection that splits before fetching (memory stays flat)
and the summary by column. The report and the console name the column and the counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.compare import buckets, tables
from bridge.compare.model import TableSide
from bridge.compare.tables import diff_tables
from bridge.report import markdown
from pipelines.adapters import db
from tests.integration.table_diff.helpers import my_run, pg_run

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.mariadb]

ROWS = 40_000
SCATTERED = [k for k in range(1, ROWS + 1) if k % 40 == 7]  # 1,000 keys over the whole range
COLUMNS = ["sku", "price", "qty", "day"]
PG_ROWS = (
    "SELECT g, 'SKU-' || g, (g % 10000) / 100.0, g % 97, DATE '2024-01-01' + (g % 365)"
    " FROM generate_series(1, {n}) g"
)
CASES = {  # name -> the change on the prefect side (PostgreSQL)
    "one changed row": "UPDATE {t} SET qty = qty + 1 WHERE id = 23456",
    "one missing row": "DELETE FROM {t} WHERE id = 777",
    "scattered": "UPDATE {t} SET sku = sku || '!' WHERE id % 40 = 7",
    "every row": "UPDATE {t} SET price = price + 0.01",
}


@pytest.fixture(autouse=True)
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Buckets of ~8 rows and at most 2,000 rows fetched at once: at 40k rows, the shapes of 10M."""
    monkeypatch.setattr(buckets, "ROWS_PER_BUCKET", 8)
    monkeypatch.setattr(tables, "FETCH_TOTAL", 2000)
    yield


@pytest.fixture(params=["postgresql", "mariadb"])
def airflow(request: pytest.FixtureRequest, pg: str, my: str, name: str) -> TableSide:
    """The unchanged side: in PostgreSQL, or in MariaDB (a cross-engine diff)."""
    if request.param == "postgresql":
        pg_run(
            pg,
            [
                f"CREATE TABLE airflow_out.{name} (id BIGINT PRIMARY KEY, sku TEXT, price NUMERIC(12,2),"
                " qty INT, day DATE)",
                f"INSERT INTO airflow_out.{name} " + PG_ROWS.format(n=ROWS),
                f"ANALYZE airflow_out.{name}",
            ],
        )
        return TableSide(pg, "airflow_out", name)
    my_run(
        my,
        [
            f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, sku VARCHAR(40), price DECIMAL(12,2), qty INT, day DATE)",
            f"INSERT INTO {name} SELECT seq, CONCAT('SKU-', seq), (seq % 10000) / 100, seq % 97,"
            f" DATE_ADD('2024-01-01', INTERVAL seq % 365 DAY) FROM seq_1_to_{ROWS}",
            f"ANALYZE TABLE {name}",
        ],
    )
    return TableSide(my, db.DatabaseUrl.parse(my).database, name)


def _prefect(pg: str, name: str, case: str) -> TableSide:
    table = f"shadow_prefect.{name}_{case.replace(' ', '_')}"
    pg_run(
        pg,
        [
            f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, sku TEXT, price NUMERIC(12,2), qty INT, day DATE)",
            f"INSERT INTO {table} " + PG_ROWS.format(n=ROWS),
            CASES[case].format(t=table),
            f"ANALYZE {table}",
        ],
    )
    return TableSide(pg, "shadow_prefect", table.split(".")[1])


def test_one_changed_row(airflow: TableSide, pg: str, name: str) -> None:
    d = diff_tables(airflow, _prefect(pg, name, "one changed row"), ["id"], COLUMNS)
    assert [(c.key, c.columns) for c in d.changed] == [((23456,), ("qty",))]
    assert (d.changed_count, d.only_airflow_count, d.only_prefect_count) == (1, 0, 0)
    assert not d.by_column and not d.changed_count_bound


def test_one_missing_row(airflow: TableSide, pg: str, name: str) -> None:
    d = diff_tables(airflow, _prefect(pg, name, "one missing row"), ["id"], COLUMNS)
    assert d.only_airflow == ((777,),) and d.rows_differing == 1
    assert (d.airflow_rows, d.prefect_rows) == (ROWS, ROWS - 1)


def test_a_thousand_scattered_rows_are_found_by_key(airflow: TableSide, pg: str, name: str) -> None:
    d = diff_tables(airflow, _prefect(pg, name, "scattered"), ["id"], COLUMNS, sample=20)
    assert d.changed_count == len(SCATTERED) == 1000 and d.rows_differing == 1000
    assert [c.key[0] for c in d.changed] == SCATTERED[:20]
    assert all(c.columns == ("sku",) for c in d.changed)
    assert not d.by_column and not d.changed_count_bound


def test_a_column_wrong_in_every_row_is_summarized_by_column(airflow: TableSide, pg: str, name: str) -> None:
    d = diff_tables(airflow, _prefect(pg, name, "every row"), ["id"], COLUMNS, sample=5)
    assert [c.name for c in d.by_column] == ["price"]
    price = d.by_column[0]
    assert price.rows == price.sampled > 0  # every sampled row differs, in price only
    assert [k[0] for k in price.keys] == [1, 2, 3, 4, 5]
    assert d.changed == () and d.changed_count_bound and d.changed_count == ROWS
    assert d.only_airflow_count == d.only_prefect_count == 0
    # the report names the column and the counts
    stored = d.to_dict()
    assert stored["by_column"][0]["column"] == "price"
    text = "\n".join(markdown._tables({"tables": [stored]}))
    assert "`price`" in text and f"{price.rows} of {price.sampled}" in text
