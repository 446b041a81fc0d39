"""Demo catalog and inventory: the category tree, products with their variants and stock
items, warehouses and stores, stock movements.
"""

from __future__ import annotations

import random
from decimal import Decimal

from business import models as m
from business.demo.data import CATEGORY_TREE, PRODUCT_WORDS, VARIANT_SUFFIXES, WAREHOUSES
from business.demo.seeder import SeederBase, _blocks, _money


class CatalogSeeding(SeederBase):
    """Mixed into the seeder: the catalog and the inventory."""

    def categories(self) -> list[int]:
        """The fixed tree; returns the leaf category ids in a stable order."""
        existing = self.key_map(m.ProductCategory, "name")
        parents = [
            dict(organization_id=self.org_id, name=name)
            for name in CATEGORY_TREE
            if name not in existing
        ]
        self.insert("product-categories", m.ProductCategory, parents, key=None, check=False)
        existing = self.key_map(m.ProductCategory, "name")
        children = [
            dict(organization_id=self.org_id, name=child, parent_id=existing[parent])
            for parent, kids in CATEGORY_TREE.items()
            for child in kids
            if child not in existing
        ]
        self.insert("product-categories", m.ProductCategory, children, key=None, check=False)
        existing = self.key_map(m.ProductCategory, "name")
        return [existing[child] for kids in CATEGORY_TREE.values() for child in kids]

    def products(self, leaf_ids: list[int]) -> None:
        leaves = [child for kids in CATEGORY_TREE.values() for child in kids]
        check = self.has_rows(m.Product)
        for block, start, stop in _blocks(self.count("products")):
            rng = self.rng("products", block)
            parents, variants = [], []
            for i in range(start, stop):
                leaf = rng.randrange(len(leaves))
                word = rng.choice(PRODUCT_WORDS[leaves[leaf]])
                sku = str(10000 + 100 * i)
                cost = _money(rng.uniform(0.8, 180))
                price = _money(cost * Decimal(str(rng.uniform(1.25, 2.2))))
                manufactured = rng.random() < 0.15
                parent = dict(
                    organization_id=self.org_id,
                    sku=sku,
                    name=f"{word} {rng.choice(('Pro', 'Trade', 'Classic', 'Max', 'Eco', ''))}".strip()
                    + f" {sku}",
                    category_id=leaf_ids[leaf],
                    barcode=f"50{rng.randint(10**10, 10**11 - 1)}",
                    unit_cost=cost,
                    list_price=price,
                    is_manufactured=manufactured,
                    is_purchased=not manufactured or rng.random() < 0.3,
                    is_active=rng.random() < 0.95,
                    description=f"{word} for trade and home use.",
                )
                parents.append(parent)
                if rng.random() < 0.5:
                    for code, label in rng.sample(VARIANT_SUFFIXES, rng.randint(1, 4)):
                        variants.append(
                            (
                                parent,
                                dict(
                                    organization_id=self.org_id,
                                    sku=f"{sku}-{code}",
                                    name=f"{parent['name']} ({label})",
                                    category_id=parent["category_id"],
                                    barcode=f"50{rng.randint(10**10, 10**11 - 1)}",
                                    unit_cost=_money(cost * Decimal("1.05")),
                                    list_price=_money(price * Decimal("1.05")),
                                    is_manufactured=parent["is_manufactured"],
                                    is_purchased=parent["is_purchased"],
                                    is_active=parent["is_active"],
                                ),
                            )
                        )
            stock_rng = self.rng("stock-items", block)

            def after(created_parents, variants=variants, stock_rng=stock_rng):
                parent_pks, new_variants = self.children_attach(
                    m.Product, "sku", created_parents, variants, "parent_id"
                )
                self.write("products", m.Product, new_variants)
                pks = parent_pks | self.pks(m.Product, "sku", [v["sku"] for v in new_variants])
                # Stock for every new product, drawn in generation order (parents, then variants).
                self.stock_items(stock_rng, [pks[p["sku"]] for p in created_parents + new_variants])

            self.insert("products", m.Product, parents, key="sku", check=check, after=after)

    # -- inventory -------------------------------------------------------------------------------
    def warehouses(self) -> list[tuple[int, bool]]:
        existing = self.key_map(m.Warehouse, "code")
        objs = [
            dict(organization_id=self.org_id, code=code, name=name, city=city, is_store=store)
            for code, name, city, store in WAREHOUSES
            if code not in existing
        ]
        self.insert("warehouses", m.Warehouse, objs, key=None, check=False)
        existing = self.key_map(m.Warehouse, "code")
        return [(existing[code], store) for code, _, _, store in WAREHOUSES]

    def stock_items(self, rng: random.Random, product_ids: list[int]) -> None:
        items = []
        for product_id in product_ids:
            for wh_id, _store in rng.sample(self.warehouse_list, rng.randint(1, 3)):
                reorder = Decimal(rng.choice((5, 10, 20, 25, 50)))
                r = rng.random()
                if r < 0.08:
                    quantity = Decimal(0)  # out of stock
                elif r < 0.2:
                    quantity = Decimal(rng.randint(1, int(reorder) - 1))  # low
                else:
                    quantity = Decimal(rng.randint(int(reorder), 400))
                items.append(
                    dict(
                        organization_id=self.org_id,
                        product_id=product_id,
                        warehouse_id=wh_id,
                        quantity=quantity,
                        reorder_level=reorder,
                        location=f"{rng.choice('ABCDEFGH')}{rng.randint(1, 30):02d}-{rng.randint(1, 6)}",
                        status=m.StockItem.Status.IN_STOCK,
                    )
                )
        self.write("stock-items", m.StockItem, items)

    def stock_movements(self, product_ids: list[int]) -> None:
        wh_ids = [wh for wh, store in self.warehouse_list if not store]
        store_ids = [wh for wh, store in self.warehouse_list if store]
        check = self.has_rows(m.StockMovement)
        for block, start, stop in _blocks(self.count("stock-movements")):
            rng = self.rng("stock-movements", block)
            objs = []
            for i in range(start, stop):
                kind = rng.random()
                if kind < 0.4:  # receipt from a supplier
                    src, dst, note = None, rng.choice(wh_ids), "Goods received"
                elif kind < 0.85:  # replenish a store
                    src, dst, note = rng.choice(wh_ids), rng.choice(store_ids), "Store transfer"
                else:  # written off / issued
                    src, dst, note = rng.choice(wh_ids + store_ids), None, "Issued"
                objs.append(
                    dict(
                        organization_id=self.org_id,
                        reference=f"MV-{i + 1:07d}",
                        product_id=rng.choice(product_ids),
                        from_warehouse_id=src,
                        to_warehouse_id=dst,
                        quantity=Decimal(rng.randint(1, 120)),
                        date=self.days_ago(rng.randint(0, 120)),
                        note=note,
                    )
                )
            self.insert("stock-movements", m.StockMovement, objs, key="reference", check=check)
