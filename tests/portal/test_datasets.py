"""The dataset layer: only published, open entries; what the public reads of them."""

from __future__ import annotations

import pyarrow as pa
import pytest

from datapolis.errors import NotFound, UserError
from datapolis.portal import datasets
from datapolis.portal.datasets import Sort
from tests.portal.conftest import Portal


def test_only_published_open_entries_are_datasets(portal: Portal) -> None:
    with portal.registry.session() as session:
        assert datasets.dataset_codes(session) == sorted(
            [portal.codes["open"], portal.codes["conditional"]])
        for hidden in ("unpublished", "closed"):
            code = portal.codes[hidden]
            for ask in (code, datasets.slug_of(code)):
                with pytest.raises(NotFound):
                    datasets.get_dataset(session, ask)
        found = datasets.get_dataset(session, datasets.slug_of(portal.codes["open"]))
        assert found.code == portal.codes["open"] and found.open_kind == "unconditional"
        assert found.theme.code == "transport"
        conditional = datasets.get_dataset(session, portal.codes["conditional"])
        assert conditional.open_kind == "conditional" and conditional.theme.code == "economy"


def test_search_in_chinese_with_facets(portal: Portal) -> None:
    with portal.registry.session() as session:
        page = datasets.search_datasets(session, query="公交线路")
        assert [d.code for d in page.datasets] == [portal.codes["open"]]
        # The unpublished and closed entries hold the word too, but never appear.
        assert datasets.search_datasets(session, query="公交").total == 1
        assert datasets.search_datasets(session, query="站点").total == 0
        everything = datasets.search_datasets(session, sort=[Sort("name")])
        assert everything.total == 2
        assert everything.facets["open_kind"] == {"conditional": 1, "unconditional": 1}
        assert everything.facets["theme"] == {"economy": 1, "transport": 1}
        assert everything.facets["tag"]["公交"] == 1
        assert everything.facets["provider"] == {"371300_gaj": 2}
        only = datasets.search_datasets(session, filters={"open_kind": ["conditional"]})
        assert [d.code for d in only.datasets] == [portal.codes["conditional"]]
        assert datasets.search_datasets(session, filters={"tag": ["交通", "企业"]}).total == 2
        assert datasets.search_datasets(session, offset=1, limit=1).total == 2
        with pytest.raises(UserError, match="cannot filter by status"):
            datasets.search_datasets(session, filters={"status": ["draft"]})
        with pytest.raises(UserError, match="cannot sort"):
            datasets.search_datasets(session, sort=[Sort("id; drop table x")])


def test_preview_reads_the_public_view_only(portal: Portal) -> None:
    with portal.registry.session() as session:
        dataset = datasets.get_dataset(session, portal.codes["open"])
        treatments = {i.name: i.treatment for i in datasets.items(session, portal.engine,
                                                                      dataset)}
        assert treatments == {"线路名称": "shown", "首末站": "masked", "驾驶员身份证号": "withheld",
                              "备注": "withheld", "日均客流": "shown"}
        shown = datasets.preview(session, portal.engine, dataset, limit=10)
        assert shown.columns == ["xlmc", "smz", "rjkl"]
        assert shown.labels == ["线路名称", "首末站", "日均客流"]
        # The soft-deleted row stays out; L2 is masked in SQL; L4 and ungraded never read.
        assert [r["xlmc"] for r in shown.rows] == ["1路", "2路", "K3路"]
        assert shown.rows[0]["smz"] != "临沂站-兰山区政府"
        assert shown.rows[0]["smz"].startswith("临") and shown.rows[0]["smz"].endswith("府")
        assert all(set(r) == {"xlmc", "smz", "rjkl"} for r in shown.rows)
        assert datasets.row_count(session, portal.engine, dataset) == 3
        streamed = pa.Table.from_batches(list(datasets.batches(session, portal.engine, dataset,
                                                               batch_size=2)))
        assert streamed.num_rows == 3 and streamed.column_names == ["xlmc", "smz", "rjkl"]
        assert "371302199001011234" not in str(streamed.to_pylist())
        assert datasets.quality_score(session, dataset) is None
        assert datasets.last_update(session, dataset) == dataset.entry.updated_at


def test_a_dataset_without_landed_data_has_metadata_only(portal: Portal) -> None:
    with portal.registry.session() as session:
        dataset = datasets.get_dataset(session, portal.codes["conditional"])
        assert datasets.preview(session, portal.engine, dataset).rows == []
        assert [i.treatment for i in datasets.items(session, portal.engine, dataset)] == [
            "withheld"]
        with pytest.raises(NotFound):
            list(datasets.batches(session, portal.engine, dataset))
