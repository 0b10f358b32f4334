"""DCAT-AP 3.0.1: the catalogue and each dataset validate against the SHACL shapes offline."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from datapolis.config import Settings
from datapolis.portal import dcat
from datapolis.portal.datasets import get_dataset, slug_of
from datapolis.portal.urls import PortalUrls
from datapolis.web.app import create_app
from tests.conftest import TEST_SECRET_KEY
from tests.portal.conftest import Portal
from tests.portal.live import serving

SHAPES = Path(__file__).parent / "shapes"
BASE = "https://data.linyi.example"


def _shapes(name: str) -> Graph:
    return Graph().parse(SHAPES / name, format="turtle")


def _report(graph: Graph, shapes: str) -> tuple[bool, str]:
    conforms, _, text = validate(graph, shacl_graph=_shapes(shapes), inference="none",
                                 allow_warnings=True)
    return bool(conforms), str(text)


def test_catalogue_and_datasets_conform_to_dcat_ap(portal: Portal) -> None:
    urls = PortalUrls(BASE)
    with portal.registry.session() as session:
        graph = dcat.catalog_graph(session, urls, title="公共数据开放网")
        for name in ("open", "conditional"):
            single = dcat.dataset_graph(urls, get_dataset(session, portal.codes[name]))
            conforms, text = _report(single, "dcat-ap-SHACL.ttl")
            assert conforms, text
    conforms, text = _report(graph, "dcat-ap-SHACL.ttl")
    assert conforms, text
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {URIRef(f"{BASE}/id/dataset/{slug_of(portal.codes[n])}")
                        for n in ("open", "conditional")}
    # the open dataset has four distributions, the one without landed data none
    open_node = URIRef(f"{BASE}/id/dataset/{slug_of(portal.codes['open'])}")
    assert len(list(graph.objects(open_node, DCAT.distribution))) == 4
    assert (open_node, DCTERMS.accrualPeriodicity,
            URIRef("http://publications.europa.eu/resource/authority/frequency/MONTHLY")) in graph


def test_recommended_shapes_report(portal: Portal) -> None:
    """The recommended-property shapes are reported, not required: what they miss is known."""
    urls = PortalUrls(BASE)
    with portal.registry.session() as session:
        graph = dcat.catalog_graph(session, urls, title="公共数据开放网")
    conforms, text = _report(graph, "shapes_recommended.ttl")
    assert conforms, text


@pytest.fixture
def live_url(portal: Portal, tmp_path: Path) -> Iterator[str]:
    settings = Settings(env="test", home=tmp_path / "var", secret_key=TEST_SECRET_KEY,
                        scheduler=False, portal_base_url=BASE)
    with serving(create_app(settings, portal.registry, portal.engine)) as url:
        yield url


def test_routes_serve_every_format_and_hide_the_rest(portal: Portal, live_url: str) -> None:
    parsed = {}
    for fmt, rdf_format in (("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml")):
        response = requests.get(f"{live_url}/catalog.{fmt}", timeout=30)
        assert response.status_code == 200, response.text
        with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated
            warnings.simplefilter("ignore", DeprecationWarning)  # ConjunctiveGraph
            parsed[fmt] = Graph().parse(data=response.content, format=rdf_format)
    assert len(parsed["ttl"]) == len(parsed["jsonld"]) == len(parsed["rdf"])
    assert "hydra" in requests.get(f"{live_url}/catalog.ttl?page=1", timeout=30).text
    assert requests.get(f"{live_url}/catalog.ttl?page=9", timeout=30).status_code == 400
    assert requests.get(f"{live_url}/catalog.txt", timeout=30).status_code == 400
    one = requests.get(f"{live_url}/dataset/{slug_of(portal.codes['open'])}.jsonld", timeout=30)
    assert one.status_code == 200 and one.headers["content-type"].startswith(
        "application/ld+json")
    for hidden in ("unpublished", "closed"):
        response = requests.get(f"{live_url}/dataset/{slug_of(portal.codes[hidden])}.ttl",
                                timeout=30)
        assert response.status_code == 404
        assert portal.codes[hidden] not in requests.get(f"{live_url}/catalog.ttl",
                                                        timeout=30).text
