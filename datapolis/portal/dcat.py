"""The open catalogue as DCAT-AP 3.0.1 RDF (rdflib): the catalogue, its datasets with their
distributions, publishers, contact points, licences, themes and update frequencies.

IRIs are stable: built on the portal's public base URL from resource and organisation codes.
Themes are our own SKOS concept scheme, declared in the graph, each concept matched
(skos:exactMatch) to the EU data-theme vocabulary; update cycles map to the EU frequency
vocabulary. The catalogue is paged with hydra:PartialCollectionView, as DCAT-AP's paging
guidance for large catalogues describes.
"""

from __future__ import annotations

import math

from rdflib import BNode, Graph, Namespace, URIRef
from rdflib import Literal as Lit
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD
from sqlalchemy.orm import Session

from datapolis.catalog.enums import UpdateCycle
from datapolis.errors import UserError
from datapolis.portal import datasets
from datapolis.portal.datasets import Dataset
from datapolis.portal.licences import LICENCES, licence_for
from datapolis.portal.themes import EU_DATA_THEME, THEMES
from datapolis.portal.urls import PortalUrls

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
IANA = Namespace("http://www.iana.org/assignments/media-types/")
SERIALISERS: dict[str, tuple[str, str]] = {
    "ttl": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("xml", "application/rdf+xml"),
}
PAGE_SIZE = 100
ZH, EN = "zh", "en"

FREQUENCIES: dict[UpdateCycle, str] = {
    UpdateCycle.REALTIME: "UPDATE_CONT",
    UpdateCycle.HOURLY: "HOURLY",
    UpdateCycle.DAILY: "DAILY",
    UpdateCycle.WEEKLY: "WEEKLY",
    UpdateCycle.TEN_DAYS: "OTHER",  # the vocabulary has no ten-day term
    UpdateCycle.MONTHLY: "MONTHLY",
    UpdateCycle.QUARTERLY: "QUARTERLY",
    UpdateCycle.HALF_YEARLY: "ANNUAL_2",
    UpdateCycle.YEARLY: "ANNUAL",
    UpdateCycle.IRREGULAR: "IRREG",
}


def _bind(graph: Graph) -> None:
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("skos", SKOS),
                              ("vcard", VCARD), ("hydra", HYDRA)):
        graph.bind(prefix, namespace)


def _themes(graph: Graph, urls: PortalUrls) -> None:
    scheme = URIRef(urls.themes())
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, DCTERMS.title, Lit("公共数据开放主题", lang=ZH)))
    graph.add((scheme, DCTERMS.title, Lit("Open-data themes", lang=EN)))
    for theme in THEMES:
        concept = URIRef(urls.theme(theme.code))
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.prefLabel, Lit(theme.name_zh, lang=ZH)))
        graph.add((concept, SKOS.prefLabel, Lit(theme.name, lang=EN)))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((concept, SKOS.exactMatch, URIRef(EU_DATA_THEME + theme.eu)))


def _licences(graph: Graph, urls: PortalUrls) -> None:
    for licence in LICENCES.values():
        node = URIRef(licence.url or urls.licence(licence.id))
        graph.add((node, RDF.type, DCTERMS.LicenseDocument))
        graph.add((node, DCTERMS.title, Lit(licence.title_zh, lang=ZH)))
        graph.add((node, DCTERMS.title, Lit(licence.title, lang=EN)))


def _publisher(graph: Graph, urls: PortalUrls, code: str, name: str) -> URIRef:
    agent = URIRef(urls.organisation(code))
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Lit(name, lang=ZH)))
    graph.add((agent, DCTERMS.identifier, Lit(code)))
    return agent


def _dataset(graph: Graph, urls: PortalUrls, dataset: Dataset) -> URIRef:
    entry = dataset.entry
    node = URIRef(urls.dataset_iri(dataset.code))
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Lit(dataset.code)))
    graph.add((node, DCTERMS.title, Lit(entry.name, lang=ZH)))
    graph.add((node, DCTERMS.description, Lit(entry.summary or entry.name, lang=ZH)))
    page = URIRef(urls.dataset(dataset.code))
    graph.add((page, RDF.type, FOAF.Document))
    graph.add((node, DCAT.landingPage, page))
    publisher = _publisher(graph, urls, entry.provider.code, entry.provider.name)
    graph.add((node, DCTERMS.publisher, publisher))
    contact = URIRef(urls.organisation(entry.provider.code) + "#contact")
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Lit(entry.provider.name, lang=ZH)))
    graph.add((contact, VCARD.hasURL, URIRef(urls.organisation(entry.provider.code))))
    graph.add((node, DCAT.contactPoint, contact))
    graph.add((node, DCAT.theme, URIRef(urls.theme(dataset.theme.code))))
    for tag in entry.tags or []:
        graph.add((node, DCAT.keyword, Lit(tag, lang=ZH)))
    frequency = URIRef(FREQUENCY + FREQUENCIES[entry.update_cycle])
    graph.add((frequency, RDF.type, DCTERMS.Frequency))
    graph.add((node, DCTERMS.accrualPeriodicity, frequency))
    graph.add((node, DCTERMS.modified, Lit(entry.updated_at.replace(microsecond=0),
                                           datatype=XSD.dateTime)))
    if entry.publish_date is not None:
        graph.add((node, DCTERMS.issued, Lit(entry.publish_date, datatype=XSD.date)))
    if dataset.open_kind == "conditional" and entry.open_conditions:
        rights = BNode()
        graph.add((rights, RDF.type, DCTERMS.RightsStatement))
        graph.add((rights, RDFS.label, Lit(entry.open_conditions, lang=ZH)))
        graph.add((node, DCTERMS.accessRights, rights))
    licence = licence_for(dataset.open_kind)
    licence_node = URIRef(licence.url or urls.licence(licence.id))
    for fmt in dataset.formats:
        dist = URIRef(urls.distribution(dataset.code, fmt))
        graph.add((dist, RDF.type, DCAT.Distribution))
        graph.add((dist, DCTERMS.title, Lit(f"{entry.name}（{fmt.name}）", lang=ZH)))
        graph.add((dist, DCAT.accessURL, URIRef(urls.dataset(dataset.code))))
        graph.add((dist, DCAT.downloadURL, URIRef(urls.download(dataset.code, fmt))))
        media = URIRef(IANA + fmt.media_type)
        graph.add((media, RDF.type, DCTERMS.MediaType))
        graph.add((dist, DCAT.mediaType, media))
        graph.add((dist, DCTERMS.license, licence_node))
        graph.add((node, DCAT.distribution, dist))
    return node


def _catalog(graph: Graph, urls: PortalUrls, title: str) -> URIRef:
    catalog = URIRef(urls.catalog())
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Lit(title, lang=ZH)))
    graph.add((catalog, DCTERMS.description, Lit(f"{title}的开放数据目录", lang=ZH)))
    graph.add((catalog, DCTERMS.publisher, _publisher(graph, urls, "portal", title)))
    home = URIRef(urls.base + "/")
    graph.add((home, RDF.type, FOAF.Document))
    graph.add((catalog, FOAF.homepage, home))
    graph.add((catalog, DCAT.themeTaxonomy, URIRef(urls.themes())))
    return catalog


def catalog_graph(session: Session, urls: PortalUrls, *, page: int = 1, title: str
                  ) -> Graph:
    """One page of the catalogue: `PAGE_SIZE` datasets, newest change first."""
    if page < 1:
        raise UserError("page numbers start at 1")
    graph = Graph()
    _bind(graph)
    catalog = _catalog(graph, urls, title)
    _themes(graph, urls)
    _licences(graph, urls)
    found = datasets.search_datasets(session, sort=[datasets.Sort("modified", True)],
                                     offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    if page > pages:
        raise UserError(f"the catalogue has {pages} page(s)")
    for dataset in found.datasets:
        graph.add((catalog, DCAT.dataset, _dataset(graph, urls, dataset)))
    _paging(graph, urls, page, pages, found.total)
    return graph


def _paging(graph: Graph, urls: PortalUrls, page: int, pages: int, total: int) -> None:
    view = URIRef(urls.catalog() + f"?page={page}")
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.first, URIRef(urls.catalog() + "?page=1")))
    graph.add((view, HYDRA.last, URIRef(urls.catalog() + f"?page={pages}")))
    if page > 1:
        graph.add((view, HYDRA.previous, URIRef(urls.catalog() + f"?page={page - 1}")))
    if page < pages:
        graph.add((view, HYDRA.next, URIRef(urls.catalog() + f"?page={page + 1}")))
    graph.add((view, HYDRA.totalItems, Lit(total, datatype=XSD.nonNegativeInteger)))


def dataset_graph(urls: PortalUrls, dataset: Dataset) -> Graph:
    graph = Graph()
    _bind(graph)
    _themes(graph, urls)
    _licences(graph, urls)
    _dataset(graph, urls, dataset)
    return graph


def check_format(fmt: str) -> None:
    if fmt not in SERIALISERS:
        raise UserError(f"unknown RDF format {fmt!r}; known: {', '.join(SERIALISERS)}")


def serialise(graph: Graph, fmt: str) -> tuple[bytes, str]:
    """(body, media type) of `graph` in `fmt` (ttl, jsonld or rdf)."""
    check_format(fmt)
    name, media_type = SERIALISERS[fmt]
    return graph.serialize(format=name, encoding="utf-8"), media_type
