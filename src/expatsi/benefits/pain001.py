"""The bank instruction file of a payment run: ISO 20022 ``pain.001.001.09`` (customer credit
transfer initiation), validated against the message's XSD before it is stored.

The XSD is the one the ``sepaxml`` package ships (``sepaxml/schemas``; ISO 20022 schemas may be
reproduced freely, iso20022.org terms of use), read from the installed package: no network.

Amounts are the lump sums in CNY (the agency's account is in CNY). Where the person's bank account
is in another currency the transaction says so with ``EqvtAmt`` (the amount in the debtor
account's currency and the currency to transfer): the bank converts. Charges are shared (``SHAR``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

import xmlschema

from expatsi.rules.money import format_yuan

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
SCHEMA_FILE = "pain.001.001.09.xsd"


@dataclass(frozen=True, slots=True)
class Debtor:
    """The agency's own account the payouts leave from."""

    name: str
    account: str  # a Chinese account number (no IBAN in China)
    bic: str


@dataclass(frozen=True, slots=True)
class Transfer:
    end_to_end_id: str
    amount: int  # fen, CNY
    currency: str  # what the creditor's bank credits
    creditor_name: str
    creditor_country: str  # ISO 3166-1 alpha-2
    iban: str
    account_number: str
    bank_code: str
    clearing_system: str
    bic: str
    remittance: str


@cache
def schema() -> Any:
    """The XSD, parsed once."""
    path = files("sepaxml") / "schemas" / SCHEMA_FILE
    return xmlschema.XMLSchema(path.read_text(encoding="utf-8"))


def _amount(fen: int) -> str:
    return format_yuan(fen)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def build(
    *,
    message_id: str,
    created: datetime,
    execution_date: date,
    debtor: Debtor,
    transfers: Sequence[Transfer],
) -> str:
    """The pain.001 document as text (UTF-8 XML declaration included), validated."""
    ET.register_namespace("", NAMESPACE)
    total = sum(t.amount for t in transfers)
    doc = ET.Element(f"{{{NAMESPACE}}}Document")
    init = _sub(doc, "CstmrCdtTrfInitn")
    hdr = _sub(init, "GrpHdr")
    _sub(hdr, "MsgId", message_id)
    _sub(hdr, "CreDtTm", created.replace(microsecond=0).isoformat())
    _sub(hdr, "NbOfTxs", str(len(transfers)))
    _sub(hdr, "CtrlSum", _amount(total))
    _sub(_sub(hdr, "InitgPty"), "Nm", debtor.name[:140])
    pmt = _sub(init, "PmtInf")
    _sub(pmt, "PmtInfId", message_id)
    _sub(pmt, "PmtMtd", "TRF")
    _sub(pmt, "NbOfTxs", str(len(transfers)))
    _sub(pmt, "CtrlSum", _amount(total))
    _sub(_sub(pmt, "ReqdExctnDt"), "Dt", execution_date.isoformat())
    _sub(_sub(pmt, "Dbtr"), "Nm", debtor.name[:140])
    acct = _sub(pmt, "DbtrAcct")
    _sub(_sub(_sub(acct, "Id"), "Othr"), "Id", debtor.account)
    _sub(acct, "Ccy", "CNY")
    _sub(_sub(_sub(pmt, "DbtrAgt"), "FinInstnId"), "BICFI", debtor.bic)
    _sub(pmt, "ChrgBr", "SHAR")
    for t in transfers:
        tx = _sub(pmt, "CdtTrfTxInf")
        pid = _sub(tx, "PmtId")
        _sub(pid, "InstrId", t.end_to_end_id)
        _sub(pid, "EndToEndId", t.end_to_end_id)
        amt = _sub(tx, "Amt")
        if t.currency == "CNY":
            _sub(amt, "InstdAmt", _amount(t.amount), Ccy="CNY")
        else:
            eqvt = _sub(amt, "EqvtAmt")
            _sub(eqvt, "Amt", _amount(t.amount), Ccy="CNY")
            _sub(eqvt, "CcyOfTrf", t.currency)
        fin = _sub(_sub(tx, "CdtrAgt"), "FinInstnId")
        _sub(fin, "BICFI", t.bic)
        if t.bank_code:
            clr = _sub(fin, "ClrSysMmbId")
            if t.clearing_system:
                _sub(_sub(clr, "ClrSysId"), "Cd", t.clearing_system)
            _sub(clr, "MmbId", t.bank_code)
        cdtr = _sub(tx, "Cdtr")
        _sub(cdtr, "Nm", t.creditor_name[:140])
        _sub(_sub(cdtr, "PstlAdr"), "Ctry", t.creditor_country)
        cid = _sub(_sub(tx, "CdtrAcct"), "Id")
        if t.iban:
            _sub(cid, "IBAN", t.iban)
        else:
            _sub(_sub(cid, "Othr"), "Id", t.account_number)
        _sub(_sub(tx, "RmtInf"), "Ustrd", t.remittance[:140])
    ET.indent(doc)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(doc, encoding="unicode") + "\n"
    schema().validate(text)
    return text
