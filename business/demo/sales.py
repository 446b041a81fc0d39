"""Demo customers, their credit transactions, sales orders with their lines, and the audit
trail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from business import models as m
from business.demo.data import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    POSTCODE_AREAS,
    STREETS,
    TAX_RATE,
)
from business.demo.seeder import SeederBase, _blocks, _money


class SalesSeeding(SeederBase):
    """Mixed into the seeder: customers, credit, orders and the audit trail."""

    def customers(self) -> None:
        check = self.has_rows(m.Customer)
        for block, start, stop in _blocks(self.count("customers")):
            rng = self.rng("customers", block)
            objs = []
            for i in range(start, stop):
                wholesale = rng.random() < 0.35
                if wholesale:
                    name = self.company_name(i + 7)
                    limit = _money(rng.randint(10, 100) * 500)
                else:
                    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    limit = _money(rng.randint(1, 10) * 250)
                r = rng.random()
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        code=f"C{i + 1:06d}",
                        name=name,
                        customer_type=m.Customer.Type.WHOLESALE
                        if wholesale
                        else m.Customer.Type.RETAIL,
                        email=f"accounts{i + 1}@{rng.choice(EMAIL_DOMAINS)}",
                        phone=f"+44 {rng.randint(1000, 9999)} {rng.randint(100000, 999999)}",
                        address=f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
                        city=(city := rng.choice(CITIES)),
                        # From the position, not the generator: earlier seeds keep their data.
                        postal_code=f"{POSTCODE_AREAS[city]}{i % 20 + 1} {i % 9 + 1}"
                        f"{'ABDEFGHJLN'[i % 10]}{'PQRSTUWXYZ'[i // 10 % 10]}",
                        country="United Kingdom",
                        credit_limit=limit,
                        credit_status=(
                            m.Customer.CreditStatus.GOOD
                            if r < 0.85
                            else m.Customer.CreditStatus.HOLD
                            if r < 0.95
                            else m.Customer.CreditStatus.BLOCKED
                        ),
                        is_active=rng.random() < 0.93,
                        legacy_id=f"POS-{i + 1:06d}",
                    )
                )
            self.insert("customers", m.Customer, objs, key="code", check=check)

    def credit_transactions(self, customers: list[tuple[int, str, Decimal]]) -> None:
        """Charges spread over 0–120 days ago, payments mostly recent and partial.

        A third of the customers never pay in the window, so after payments are set against
        the oldest charges every aging bucket (0–30, 31–60, 61–90, 90+) still holds money.
        """
        check = self.has_rows(m.CreditTransaction)
        for block, start, stop in _blocks(self.count("credit-transactions")):
            rng = self.rng("credit-transactions", block)
            objs = []
            for i in range(start, stop):
                index = rng.randrange(len(customers))
                customer_id, _type, limit = customers[index]
                payer = index % 3 != 0
                if payer and rng.random() < 0.3:
                    kind = m.CreditTransaction.Kind.PAYMENT
                    days = rng.randint(0, 45)
                    amount = _money(
                        max(Decimal("10"), limit) * Decimal(str(rng.uniform(0.02, 0.1)))
                    )
                    note = rng.choice(("Bank transfer", "Card payment", "Cheque"))
                else:
                    kind = m.CreditTransaction.Kind.CHARGE
                    days = rng.randint(0, 120)
                    amount = _money(
                        max(Decimal("10"), limit) * Decimal(str(rng.uniform(0.03, 0.2)))
                    )
                    note = f"Invoice INV-{rng.randint(10000, 99999)}"
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        reference=f"CT-{i + 1:07d}",
                        customer_id=customer_id,
                        date=self.days_ago(days),
                        kind=kind,
                        amount=amount,
                        note=note,
                    )
                )
            self.insert(
                "credit-transactions", m.CreditTransaction, objs, key="reference", check=check
            )

    def sales_orders(
        self, customers: list[tuple[int, str, Decimal]], products: list[tuple]
    ) -> None:
        statuses = list(m.SalesOrder.Status.values)  # draft, confirmed, invoiced, cancelled
        check = self.has_rows(m.SalesOrder)
        wholesale = m.Customer.Type.WHOLESALE
        for block, start, stop in _blocks(self.count("sales-orders")):
            rng = self.rng("sales-orders", block)
            orders, lines = [], []
            for i in range(start, stop):
                customer_id, customer_type, _limit = customers[rng.randrange(len(customers))]
                wh_id, _store = rng.choice(self.warehouse_list)
                order = dict(
                    organization_id=self.org_id,
                    number=f"SO-{i + 1:07d}",
                    customer_id=customer_id,
                    order_date=self.days_ago(rng.randint(0, 182)),
                    status=rng.choices(statuses, weights=(12, 23, 55, 10))[0],
                    warehouse_id=wh_id,
                )
                orders.append(order)
                for line_number, (product_id, cost, price) in enumerate(
                    rng.sample(products, rng.randint(1, 5)), start=1
                ):
                    big = customer_type == wholesale
                    quantity = Decimal(rng.randint(5, 60) if big else rng.randint(1, 6))
                    unit_price = _money(price * Decimal("0.85")) if big else price
                    gross = quantity * unit_price
                    discount = (
                        _money(gross * Decimal("0.05")) if rng.random() < 0.15 else Decimal(0)
                    )
                    lines.append(
                        (
                            order,
                            dict(
                                organization_id=self.org_id,
                                line_number=line_number,
                                product_id=product_id,
                                quantity=quantity,
                                unit_price=unit_price,
                                unit_cost=cost,
                                discount=discount,
                                tax=_money((gross - discount) * TAX_RATE),
                                tax_rate=TAX_RATE * 100,
                            ),
                        )
                    )

            def after(created, lines=lines):
                _, objs = self.children_attach(m.SalesOrder, "number", created, lines, "order_id")
                self.write("sales-order-lines", m.SalesOrderLine, objs)

            self.insert(
                "sales-orders", m.SalesOrder, orders, key="number", check=check, after=after
            )

    # -- audit -----------------------------------------------------------------------------------
    def audit_events(self, users: list) -> None:
        total = self.count("audit-events")
        done = m.AuditEvent.objects.filter(
            organization_id=self.org_id, details__has_key="demo"
        ).count()
        types = (
            (m.AuditEvent.Type.LOGIN, 40),
            (m.AuditEvent.Type.LOGOUT, 25),
            (m.AuditEvent.Type.IMPORT, 12),
            (m.AuditEvent.Type.EXPORT, 12),
            (m.AuditEvent.Type.REPORT, 8),
            (m.AuditEvent.Type.TEMPLATE, 3),
        )
        kinds, weights = zip(*types, strict=True)
        objects = {
            m.AuditEvent.Type.IMPORT: ("contacts.csv", "products.xlsx", "orders.csv", "stock.xlsx"),
            m.AuditEvent.Type.EXPORT: ("customers.xlsx", "contacts.csv", "products.json"),
            m.AuditEvent.Type.REPORT: ("Sales", "Customers & credit aging", "Inventory valuation"),
            m.AuditEvent.Type.TEMPLATE: ("Weekly contacts", "POS products"),
        }
        for block, start, stop in _blocks(total):
            rng = self.rng("audit-events", block)
            objs = []
            for i in range(start, stop):
                user = rng.choice(users)
                kind = rng.choices(kinds, weights=weights)[0]
                if kind in objects:
                    object_type, object_repr = "file", rng.choice(objects[kind])
                else:
                    object_type, object_repr = "auth.User", user.get_username()
                moment = self.now - dt.timedelta(seconds=rng.randint(0, 60 * 86400))
                if i < done:
                    continue
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        time=moment,
                        user_id=user.pk,
                        event_type=kind,
                        object_type=object_type,
                        object_id=f"demo-{i + 1}",
                        object_repr=object_repr,
                        details={"demo": i + 1},
                        ip_address=f"10.0.{rng.randint(0, 20)}.{rng.randint(2, 250)}",
                    )
                )
            self.insert("audit-events", m.AuditEvent, objs, key=None, check=False)
