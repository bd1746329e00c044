"""The shape of the whois adapter's data: a domain's registration (from RDAP or port 43) or an IP
network's. Published in the JSON Schemas of the outputs (`osint-fanout schema json`); the tests
check the adapter's results against it, and a key it does not describe fails them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WhoisDomainData", "WhoisNetworkData", "data_schema"]

_ISO = (
    "RFC 3339 in UTC ('2020-11-09T07:01:43Z'), with the precision the registry gave (fractional seconds when it "
    "wrote them); 'YYYY-MM-DD' when it gave a day alone; a time without a time zone is read as UTC and named in "
    "no_time_zone"
)
_TEXT = (
    "port 43: the registry's own words for the date (null when it gave none); kept when no precise date could be read"
)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["rdap", "whois"] = Field(description="rdap, or whois (port 43)")
    server: str = Field(description="The server that answered: an RDAP host, or a port-43 host:port.")
    handle: str | None = Field(None, description="RDAP: the registry's handle of the object.")
    status: list[str] = Field(description="Statuses as RDAP writes them (RFC 8056): 'client transfer prohibited'.")
    created: str | None = Field(description=f"Registration date: {_ISO}.")
    updated: str | None = Field(description=f"Last change: {_ISO}.")
    registrant: str | None = Field(
        description="The holder's name, only as the answer names it: RDAP, the registrant entity's vCard fn, else "
        "org (never a handle); port 43, the registrant's name or organisation unless it is a handle."
    )
    registrant_handle: str | None = Field(
        None,
        description="The registrant's handle, not a name: RDAP, the registrant entity's (a contact ID, an RIR "
        "maintainer); port 43, a registrant given as one word with a digit ('registrant: ACS25-IS').",
    )
    no_time_zone: list[str] = Field(
        default_factory=list,
        description="The date fields ('created', 'updated', 'expires') whose time the registry gave without a time "
        "zone: read as UTC.",
    )
    abuse_email: str | None = Field(
        description="The abuse contact's e-mail: RDAP, the abuse entity closest to the object (a domain's "
        "registrar's own first, then the domain's; breadth-first, so a top-level entity wins over a nested one)."
    )
    warnings: list[str] = Field(
        description="What could not be read or asked, the rest being there: a date in an unknown format or "
        "imprecise ('created: imprecise date ...'), python-whois failing, the registrar's record not answering."
    )


class WhoisDomainData(_Data):
    """A domain's registration."""

    name: str | None = Field(description="The domain, lower case.")
    registrar: str | None = Field(description="The sponsoring registrar's name.")
    registrar_iana_id: str | None = Field(description="The registrar's IANA ID.")
    expires: str | None = Field(description=f"Expiration date: {_ISO}.")
    created_text: str | None = Field(None, description=_TEXT)
    expires_text: str | None = Field(None, description=_TEXT)
    updated_text: str | None = Field(None, description=_TEXT)
    nameservers: list[str] = Field(description="Host names, lower case, without a trailing dot.")
    dnssec: bool | None = Field(description="Whether the delegation is signed; null when the source does not say.")
    registrant_org: str | None = Field(description="The holder's organisation.")
    registrant_country: str | None = Field(description="The holder's country, as a code when the source gives one.")
    registrar_server: str | None = Field(
        None, description="RDAP: the host of the registrar's own record, when it was read (the second hop)."
    )
    registrar_added: list[str] = Field(
        default_factory=list, description="RDAP: the fields that came from the registrar's own record."
    )
    rdap_error: str | None = Field(None, description="Port 43: why RDAP was not used (its failure).")


class WhoisNetworkData(_Data):
    """An IP network's registration (RDAP only)."""

    source: Literal["rdap"] = Field(description="rdap")
    name: str | None = Field(description="The network's name.")
    type: str | None = Field(description="The RIR's type of allocation or assignment.")
    range: str | None = Field(description="'START - END', each a canonical IP address.")
    cidrs: list[str] = Field(description="The range as CIDR prefixes: cidr0_cidrs when given, else computed.")
    country: str | None = Field(description="The network's country code.")


def data_schema() -> dict[str, Any]:
    """JSON Schema of the adapter's data: one of the two shapes; their definitions in "$defs"."""
    models = (WhoisDomainData, WhoisNetworkData)
    defs = {model.__name__: model.model_json_schema(ref_template="#/$defs/{model}") for model in models}
    return {
        "$defs": defs,
        "anyOf": [{"$ref": f"#/$defs/{name}"} for name in defs],
        "description": "whois: a domain's registration (RDAP or port 43) or an IP network's (RDAP)",
    }
