"""The demo business's shape: volumes at scale 1, the organization and its users, and the
words records are made of (names, cities, the category tree, product words, warehouses).
"""

from __future__ import annotations

from decimal import Decimal

from accounts.permissions import Role

DEMO_NAME = "Demo Trading Co."
DEMO_SLUG = "demo"
BLOCK = 5000
CENT = Decimal("0.01")
TAX_RATE = Decimal("0.20")

# Volumes at scale 1; ``--scale N`` multiplies each. The category tree and the warehouses are
# the shape of the business, not volume, and stay fixed.
BASE = {
    "accounts": 150,
    "contacts": 1000,
    "leads": 300,
    "products": 120,  # parent products; about half get 1–4 variants
    "customers": 200,
    "credit-transactions": 1000,
    "sales-orders": 500,  # 1–5 lines each
    "stock-movements": 400,
    "audit-events": 300,
}

# What its invoices and reports print: a UK business, so pounds and British formats.
DEMO_ORG_SETTINGS = {
    "address_line1": "Unit 4, Canal Wharf",
    "address_line2": "Whitehall Road",
    "postal_code": "LS12 1BE",
    "city": "Leeds",
    "country": "United Kingdom",
    "vat_number": "GB 123 4567 89",
    "email": "accounts@demo-trading.example.com",
    "phone": "+44 113 496 0000",
    "website": "demo-trading.example.com",
    "currency": "GBP",
    "locale": "en-GB",
}

DEMO_USERS = (
    ("admin", "ferry-admin", Role.ADMIN, "Alex", "Admin"),
    ("manager", "ferry-manager", Role.MANAGER, "Morgan", "Manager"),
    ("ops", "ferry-ops", Role.OPS, "Olivia", "Ops"),
)

FIRST_NAMES = (
    "Ada", "Alan", "Amelia", "Ben", "Chloé", "Dana", "Elif", "Emma", "Farah", "George",
    "Grace", "Hannah", "Hugo", "Isla", "Jack", "José", "Kai", "Lena", "Liam", "Maya",
    "Mohammed", "Nina", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Sofia",
    "Tom", "Uma", "Victor", "Wei", "Yusuf", "Zoë", "Aisha", "Carlos", "Freya", "Kenji",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Brown", "Chen", "Clarke", "Davies", "Evans", "Fischer", "García",
    "Green", "Hall", "Hughes", "Jones", "Khan", "Kowalski", "Lee", "Lewis", "Martin",
    "Müller", "Murphy", "Nguyen", "O'Brien", "Patel", "Roberts", "Rossi", "Singh", "Smith",
    "Taylor", "Thomas", "Walker", "White", "Williams", "Wilson", "Wright", "Young", "Novak",
)  # fmt: skip
NAME_PREFIXES = (
    "North", "South", "East", "West", "Blue", "Red", "Green", "Silver", "Golden", "Iron",
    "Oak", "Cedar", "River", "Harbour", "Summit", "Bright", "Prime", "Union", "Royal", "Swift",
)  # fmt: skip
NAME_ROOTS = (
    "wind", "stone", "field", "bridge", "gate", "wood", "brook", "vale", "ford", "mill",
    "point", "crest", "haven", "ridge", "well", "marsh", "light", "works", "line", "way",
)  # fmt: skip
NAME_KINDS = (
    "Traders", "Builders", "Supplies", "Hardware", "Construction", "Interiors", "Homes",
    "Logistics", "Engineering", "Joinery", "Property Services", "Retail",
)  # fmt: skip
INDUSTRIES = (
    "Construction", "Retail", "Property management", "Facilities", "Manufacturing",
    "Hospitality", "Education", "Public sector",
)  # fmt: skip
CITIES = (
    "Leeds", "Manchester", "Birmingham", "Bristol", "London", "Glasgow", "Cardiff",
    "Sheffield", "Nottingham", "Newcastle", "Liverpool", "York", "Brighton", "Oxford",
)  # fmt: skip
COUNTRIES = ("United Kingdom",) * 8 + ("Ireland", "France", "Germany", "Netherlands")
TITLES = (
    "Buyer", "Purchasing Manager", "Site Manager", "Owner", "Director", "Office Manager",
    "Project Manager", "Accounts Payable", "Foreman", "Facilities Manager", "",
)  # fmt: skip
SOURCES = ("Website", "Trade show", "Referral", "Cold call", "Newsletter", "Partner", "Walk-in")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
POSTCODE_AREAS = {
    "Leeds": "LS", "Manchester": "M", "Birmingham": "B", "Bristol": "BS", "London": "EC",
    "Glasgow": "G", "Cardiff": "CF", "Sheffield": "S", "Nottingham": "NG", "Newcastle": "NE",
    "Liverpool": "L", "York": "YO", "Brighton": "BN", "Oxford": "OX",
}  # fmt: skip
STREETS = ("High Street", "Station Road", "Mill Lane", "Church Road", "Park Avenue", "Quay Side")

# Category tree: parent → children. Products go into the leaves.
CATEGORY_TREE = {
    "Tools": ("Hand tools", "Power tools", "Measuring"),
    "Hardware": ("Fasteners", "Hinges & locks", "Brackets"),
    "Paint & decorating": ("Interior paint", "Exterior paint", "Brushes & rollers"),
    "Electrical": ("Cables", "Lighting", "Switches & sockets"),
    "Plumbing": ("Pipes & fittings", "Taps", "Valves"),
    "Garden": ("Garden tools", "Watering"),
}
PRODUCT_WORDS = {
    "Hand tools": ("Claw hammer", "Screwdriver set", "Chisel", "Hand saw", "Pliers", "Spanner set"),
    "Power tools": ("Cordless drill", "Impact driver", "Jigsaw", "Angle grinder", "Sander"),
    "Measuring": ("Tape measure", "Spirit level", "Laser level", "Try square"),
    "Fasteners": ("Wood screws", "Wall plugs", "Hex bolts", "Coach screws", "Nails"),
    "Hinges & locks": ("Butt hinge", "Padlock", "Door latch", "Mortice lock", "Hasp"),
    "Brackets": ("Shelf bracket", "Angle bracket", "Joist hanger", "Corner brace"),
    "Interior paint": ("Matt emulsion", "Silk emulsion", "Eggshell", "Primer"),
    "Exterior paint": ("Masonry paint", "Wood stain", "Fence paint", "Gloss"),
    "Brushes & rollers": ("Paint brush", "Roller kit", "Paint tray", "Masking tape"),
    "Cables": ("Twin & earth cable", "Flex cable", "Extension lead", "Cable clips"),
    "Lighting": ("LED bulb", "Floodlight", "Batten light", "Downlight"),
    "Switches & sockets": ("Double socket", "Light switch", "Fused spur", "USB socket"),
    "Pipes & fittings": ("Copper pipe", "Push-fit elbow", "Compression tee", "Pipe clip"),
    "Taps": ("Mixer tap", "Basin tap", "Outdoor tap", "Bath filler"),
    "Valves": ("Isolating valve", "Gate valve", "Radiator valve", "Check valve"),
    "Garden tools": ("Spade", "Rake", "Pruning shears", "Wheelbarrow"),
    "Watering": ("Garden hose", "Hose reel", "Sprinkler", "Watering can"),
}
VARIANT_SUFFIXES = (
    ("BE", "beige"), ("BK", "black"), ("WH", "white"), ("RD", "red"), ("GR", "grey"),
    ("S", "small"), ("M", "medium"), ("L", "large"), ("XL", "extra large"),
)  # fmt: skip
WAREHOUSES = (
    ("WH-MAIN", "Central Warehouse", "Leeds", False),
    ("WH-NORTH", "Northern Depot", "Newcastle", False),
    ("WH-SOUTH", "Southern Depot", "Southampton", False),
    ("ST-LDN", "London Store", "London", True),
    ("ST-MAN", "Manchester Store", "Manchester", True),
    ("ST-BHM", "Birmingham Store", "Birmingham", True),
    ("ST-BRS", "Bristol Store", "Bristol", True),
)
