"""Demo accounts, their contacts, and leads."""

from __future__ import annotations

import datetime as dt

from business import models as m
from business.demo.data import (
    CITIES,
    COUNTRIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    SOURCES,
    TITLES,
)
from business.demo.seeder import SeederBase, _ascii, _blocks, _money


class CrmSeeding(SeederBase):
    """Mixed into the seeder: the CRM records."""

    def accounts(self) -> None:
        check = self.has_rows(m.Account)
        for block, start, stop in _blocks(self.count("accounts")):
            rng = self.rng("accounts", block)
            objs = []
            for i in range(start, stop):
                name = self.company_name(i)
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        name=name,
                        website=f"https://www.{_ascii(name)[:40]}.example.com",
                        industry=rng.choice(INDUSTRIES),
                        phone=f"+44 {rng.randint(1000, 9999)} {rng.randint(100000, 999999)}",
                        city=rng.choice(CITIES),
                        country=rng.choice(COUNTRIES),
                        legacy_id=f"ACC-{i + 1:06d}",
                    )
                )
            self.insert("accounts", m.Account, objs, key="name", check=check)

    def contacts(self) -> None:
        by_name = self.key_map(m.Account, "name")
        account_ids = [by_name.get(self.company_name(i)) for i in range(self.count("accounts"))]
        stages = (m.Contact.Stage.LEAD, m.Contact.Stage.PROSPECT, m.Contact.Stage.CUSTOMER)
        check = self.has_rows(m.Contact)
        total = self.count("contacts")
        if check and m.Contact.objects.filter(organization_id=self.org_id).count() >= total:
            # Every contact of this scale is there: skip building a million objects to find
            # out (contacts are a leaf, nothing else hangs off them).
            return
        for block, start, stop in _blocks(total):
            rng = self.rng("contacts", block)
            choice, random_ = rng.choice, rng.random
            objs = []
            for i in range(start, stop):
                first, last = choice(FIRST_NAMES), choice(LAST_NAMES)
                r = random_()
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        email=f"{_ascii(first)}.{_ascii(last)}{i + 1}@{choice(EMAIL_DOMAINS)}",
                        first_name=first,
                        last_name=last,
                        account_id=choice(account_ids) if r < 0.85 else None,
                        phone=f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                        title=choice(TITLES),
                        lifecycle_stage=stages[0 if r < 0.45 else 1 if r < 0.7 else 2],
                        source=choice(SOURCES),
                        do_not_email=random_() < 0.08,
                        birth_date=(
                            dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 18000))
                            if random_() < 0.3
                            else None
                        ),
                        legacy_id=f"CRM-{i + 1:07d}",
                    )
                )
            self.insert("contacts", m.Contact, objs, key="email", check=check)

    def leads(self) -> None:
        statuses = list(m.Lead.Status.values)
        check = self.has_rows(m.Lead)
        for block, start, stop in _blocks(self.count("leads")):
            rng = self.rng("leads", block)
            objs = []
            for i in range(start, stop):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                company = self.company_name(len(self.company_combos) - 1 - (i % 2000))
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        email=f"{_ascii(first)}.{_ascii(last)}.lead{i + 1}@{rng.choice(EMAIL_DOMAINS)}",
                        first_name=first,
                        last_name=last,
                        company_name=company,
                        source=rng.choice(SOURCES),
                        status=rng.choices(statuses, weights=(40, 30, 20, 10))[0],
                        estimated_value=(
                            _money(rng.randint(5, 400) * 50) if rng.random() < 0.8 else None
                        ),
                    )
                )
            self.insert("leads", m.Lead, objs, key="email", check=check)
