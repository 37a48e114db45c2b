"""The screen pop: a calling number's customer, their open tickets, the known faults and the
outages of their area as the portal's intake shows them to an agent of the key's unit, and the
planned outages still to come there (each lookup recorded against the key, and counted in its
rate limit)."""

from fastapi import APIRouter

from gridline.api.deps import CustomersRead, Db, Site
from gridline.api.views import customer_view, outage_view, ticket_summary
from models.integrations.tables import ApiLookup
from models.tickets.intake import normalise_phone
from tasks.tickets.queries import caller

router = APIRouter(prefix="/v1", tags=["customers"])


@router.get("/customers/by-phone/{phone}", summary="来电弹屏 Look up a caller")
def by_phone(session: Db, site: Site, scope: CustomersRead, phone: str):
    number = normalise_phone(phone)
    now = site.clock()
    known = caller(session, scope, number, site.settings.api.max_page_size, now)
    session.add(ApiLookup(api_key_id=scope.key.id, phone=number, looked_up_at=now,
                          found=known.customer is not None))
    return {"phone": number,
            "customer": customer_view(known.customer) if known.customer else None,
            "open_tickets": [ticket_summary(t) for t in known.open_tickets],
            "known_faults": [ticket_summary(t) for t in known.faults],
            "outages": [outage_view(o, now) for o in known.outages + known.outages_ahead]}
