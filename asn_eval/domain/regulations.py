"""Figures taken from Indonesian civil-service regulations, in one place.

Every number here names the regulation it comes from and how sure we are of it
(see shared/DOMAIN.md). A figure marked UNCONFIRMED comes from one secondary source
or memory: a user holding the official text corrects it here, once, and every
function, table and report picks up the change.
"""

from __future__ import annotations

from types import MappingProxyType

# --- Performance appraisal (SKP) -------------------------------------------------
# PermenPANRB 6/2022: predicates from best to worst (confirmed).
SKP_PREDICATES: tuple[str, ...] = (
    "Sangat Baik",
    "Baik",
    "Butuh Perbaikan",
    "Kurang/Misconduct",
    "Sangat Kurang",
)
# Predicates counted as "Baik or better" in the impact chapter.
SKP_GOOD_PREDICATES: frozenset[str] = frozenset({"Sangat Baik", "Baik"})

# PermenPANRB 6/2022 annex matrix: (hasil kerja, perilaku) -> predicate
# (confirmed by five independent public implementations; annex not read directly).
SKP_RATINGS: tuple[str, ...] = ("di atas", "sesuai", "di bawah")
SKP_MATRIX = MappingProxyType(
    {
        ("di atas", "di atas"): "Sangat Baik",
        ("di atas", "sesuai"): "Baik",
        ("di atas", "di bawah"): "Kurang/Misconduct",
        ("sesuai", "di atas"): "Baik",
        ("sesuai", "sesuai"): "Baik",
        ("sesuai", "di bawah"): "Kurang/Misconduct",
        ("di bawah", "di atas"): "Butuh Perbaikan",
        ("di bawah", "sesuai"): "Butuh Perbaikan",
        ("di bawah", "di bawah"): "Sangat Kurang",
    }
)

# PP 46/2011 (pre-2022 data): final score = SKP 60% + behaviour 40%; bands as
# (lowest score of the band, predicate), highest band first (confirmed, two sources).
PP46_SKP_WEIGHT = 0.60
PP46_BEHAVIOUR_WEIGHT = 0.40
PP46_BANDS: tuple[tuple[float, str], ...] = (
    (91.0, "Sangat Baik"),
    (76.0, "Baik"),
    (61.0, "Cukup"),
    (51.0, "Kurang"),
    (0.0, "Buruk"),
)

# --- Competency development -------------------------------------------------------
# PP 11/2017 art. 203 as amended by PP 17/2020; Peraturan LAN 5/2018 (confirmed).
JP_MINIMUM_PER_YEAR = 20
MINUTES_PER_JP = 45  # so that hours of training are hours x 60 / 45 JP
TRAINING_TYPES: tuple[str, ...] = ("kepemimpinan", "fungsional", "teknis", "seminar/workshop")
TRAINING_ROUTES: tuple[str, ...] = ("klasikal", "e-learning", "nonklasikal lain")

# --- Discipline (PP 94/2021), unexcused absence days per year -> sanction ----------
# (lowest day count, sanction, level); confirmed from a public implementation.
# 28 days cumulative (or 10 consecutive) -> dismissal.
DISCIPLINE_LADDER: tuple[tuple[int, str, str], ...] = (
    (28, "pemberhentian dengan hormat tidak atas permintaan sendiri", "berat"),
    (25, "pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan", "berat"),
    (21, "penurunan jabatan setingkat lebih rendah selama 12 bulan", "berat"),
    (17, "pemotongan tunjangan kinerja 25% selama 12 bulan", "sedang"),
    (14, "pemotongan tunjangan kinerja 25% selama 9 bulan", "sedang"),
    (11, "pemotongan tunjangan kinerja 25% selama 6 bulan", "sedang"),
    (7, "pernyataan tidak puas secara tertulis", "ringan"),
    (4, "teguran tertulis", "ringan"),
    (3, "teguran lisan", "ringan"),
)
DISCIPLINE_LEVELS: tuple[str, ...] = ("ringan", "sedang", "berat")
# The sanction types of each level, by the regulation a sanction was imposed under, as a
# discipline history (SIASN's rw_hukdis: the type and the regulation's number) records
# them. PP 94/2021 art. 8 (2)-(4) (confirmed: the article's text quoted by three
# independent news and government pages); PP 53/2010 art. 7 (2)-(4), which it replaced on
# 31 August 2021 and under which older sanctions were imposed (confirmed: the article's
# text on three court websites). Types are written as the articles list them.
DISCIPLINE_SANCTION_TYPES = MappingProxyType(
    {
        "94/2021": MappingProxyType(
            {
                "teguran lisan": "ringan",
                "teguran tertulis": "ringan",
                "pernyataan tidak puas secara tertulis": "ringan",
                "pemotongan tunjangan kinerja sebesar 25% selama 6 bulan": "sedang",
                "pemotongan tunjangan kinerja sebesar 25% selama 9 bulan": "sedang",
                "pemotongan tunjangan kinerja sebesar 25% selama 12 bulan": "sedang",
                "penurunan jabatan setingkat lebih rendah selama 12 bulan": "berat",
                "pembebasan dari jabatannya menjadi jabatan pelaksana selama 12 bulan": "berat",
                "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS": "berat",
            }
        ),
        "53/2010": MappingProxyType(
            {
                "teguran lisan": "ringan",
                "teguran tertulis": "ringan",
                "pernyataan tidak puas secara tertulis": "ringan",
                "penundaan kenaikan gaji berkala selama 1 tahun": "sedang",
                "penundaan kenaikan pangkat selama 1 tahun": "sedang",
                "penurunan pangkat setingkat lebih rendah selama 1 tahun": "sedang",
                "penurunan pangkat setingkat lebih rendah selama 3 tahun": "berat",
                "pemindahan dalam rangka penurunan jabatan setingkat lebih rendah": "berat",
                "pembebasan dari jabatan": "berat",
                "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS": "berat",
                "pemberhentian tidak dengan hormat sebagai PNS": "berat",
            }
        ),
    }
)

# --- Indeks Kepuasan Masyarakat (PermenPANRB 14/2017) (confirmed) ------------------
IKM_ELEMENTS: tuple[str, ...] = (
    "persyaratan",
    "sistem, mekanisme dan prosedur",
    "waktu penyelesaian",
    "biaya/tarif",
    "produk spesifikasi jenis pelayanan",
    "kompetensi pelaksana",
    "perilaku pelaksana",
    "sarana dan prasarana",
    "penanganan pengaduan, saran dan masukan",
)
IKM_SCORE_MIN, IKM_SCORE_MAX = 1, 4
IKM_ROUNDED_WEIGHT = 0.11  # the regulation prints 1/9 rounded to 0.11
# Weights the report uses: "exact" (1/9 each), the regulation's definition (weight = 1 / number
# of elements), rather than "rounded" (its printed 0.11, which makes every IKM 1% lower,
# 9 x 0.11 = 0.99, and lets a perfect score of 4 give 99 instead of 100). A project choice;
# set "rounded" to reproduce an office that computed with 0.11 (indices.ikm(weights=...)).
IKM_REPORT_WEIGHTS = "exact"
IKM_SCALE = 25
# (lowest IKM of the band, grade, label), best first.
IKM_BANDS: tuple[tuple[float, str, str], ...] = (
    (88.31, "A", "Sangat Baik"),
    (76.61, "B", "Baik"),
    (65.00, "C", "Kurang Baik"),
    (25.00, "D", "Tidak Baik"),
)
# Krejcie-Morgan (1970) sample sizes (population, sample); that PermenPANRB 14/2017
# prescribes this table is UNCONFIRMED.
KREJCIE_MORGAN: tuple[tuple[int, int], ...] = (
    (10, 10),
    (15, 14),
    (20, 19),
    (25, 24),
    (30, 28),
    (35, 32),
    (40, 36),
    (45, 40),
    (50, 44),
    (55, 48),
    (60, 52),
    (65, 56),
    (70, 59),
    (75, 63),
    (80, 66),
    (85, 70),
    (90, 73),
    (95, 76),
    (100, 80),
    (110, 86),
    (120, 92),
    (130, 97),
    (140, 103),
    (150, 108),
    (160, 113),
    (170, 118),
    (180, 123),
    (190, 127),
    (200, 132),
    (210, 136),
    (220, 140),
    (230, 144),
    (240, 148),
    (250, 152),
    (260, 155),
    (270, 159),
    (280, 162),
    (290, 165),
    (300, 169),
    (320, 175),
    (340, 181),
    (360, 186),
    (380, 191),
    (400, 196),
    (420, 201),
    (440, 205),
    (460, 210),
    (480, 214),
    (500, 217),
    (550, 226),
    (600, 234),
    (650, 242),
    (700, 248),
    (750, 254),
    (800, 260),
    (850, 265),
    (900, 269),
    (950, 274),
    (1000, 278),
    (1100, 285),
    (1200, 291),
    (1300, 297),
    (1400, 302),
    (1500, 306),
    (1600, 310),
    (1700, 313),
    (1800, 317),
    (1900, 320),
    (2000, 322),
    (2200, 327),
    (2400, 331),
    (2600, 335),
    (2800, 338),
    (3000, 341),
    (3500, 346),
    (4000, 351),
    (4500, 354),
    (5000, 357),
    (6000, 361),
    (7000, 364),
    (8000, 367),
    (9000, 368),
    (10000, 370),
    (15000, 375),
    (20000, 377),
    (30000, 379),
    (40000, 380),
    (50000, 381),
    (75000, 382),
    (1000000, 384),
)

# --- Indeks Profesionalitas ASN (Peraturan BKN 8/2019) -----------------------------
# Dimension weights: Kualifikasi and Kompetensi confirmed; Kinerja and Disiplin from one
# form implementation (UNCONFIRMED).
IP_ASN_WEIGHTS = MappingProxyType(
    {"kualifikasi": 25, "kompetensi": 40, "kinerja": 30, "disiplin": 5}
)
# (lowest score of the band, label), best first (confirmed).
IP_ASN_BANDS: tuple[tuple[float, str], ...] = (
    (91.0, "Sangat Tinggi"),
    (81.0, "Tinggi"),
    (71.0, "Sedang"),
    (61.0, "Rendah"),
    (0.0, "Sangat Rendah"),
)

# Sub-indicator points, ONE table: (dimension, indicator, value, points, confirmed).
# Confirmed: S3 25, S2 20 and 5 for never sanctioned only. Everything else is UNCONFIRMED
# (one form implementation or memory; shared/DOMAIN.md): correct a row here and
# indices.ip_asn() follows. Kompetensi items add up and are capped at the dimension weight
# (40); which item applies to which jabatan (kepemimpinan for struktural, fungsional for
# jabatan fungsional) is left to the inputs.
# Kinerja rows cover both PP 46/2011 predicates and the PermenPANRB 6/2022 ones; mapping the
# 2022 predicates onto the 2019 points by rank is our assumption (UNCONFIRMED).
IP_ASN_POINTS: tuple[tuple[str, str, str, float, bool], ...] = (
    ("kualifikasi", "education", "S3", 25, True),
    ("kualifikasi", "education", "S2", 20, True),
    ("kualifikasi", "education", "S1", 15, False),
    ("kualifikasi", "education", "D4", 15, False),
    ("kualifikasi", "education", "D3", 10, False),
    ("kualifikasi", "education", "D2", 5, False),
    ("kualifikasi", "education", "D1", 5, False),
    ("kualifikasi", "education", "SMA", 5, False),
    ("kualifikasi", "education", "SMP", 1, False),
    ("kualifikasi", "education", "SD", 1, False),
    ("kompetensi", "leadership_training", "yes", 15, False),
    ("kompetensi", "functional_training", "yes", 15, False),
    ("kompetensi", "training_20jp", "yes", 15, False),
    ("kompetensi", "seminar", "yes", 10, False),
    ("kinerja", "performance", "Sangat Baik", 30, False),
    ("kinerja", "performance", "Baik", 25, False),
    ("kinerja", "performance", "Cukup", 15, False),
    ("kinerja", "performance", "Butuh Perbaikan", 15, False),
    ("kinerja", "performance", "Kurang", 10, False),
    ("kinerja", "performance", "Kurang/Misconduct", 10, False),
    ("kinerja", "performance", "Buruk", 5, False),
    ("kinerja", "performance", "Sangat Kurang", 5, False),
    ("disiplin", "discipline", "none", 5, True),
    ("disiplin", "discipline", "ringan", 3, False),
    ("disiplin", "discipline", "sedang", 2, False),
    ("disiplin", "discipline", "berat", 1, False),
)

# --- Identifiers -------------------------------------------------------------------
# NIP (PNS): birth date YYYYMMDD, appointment YYYYMM, sex digit (1 male, 2 female),
# 3-digit serial (BKN; confirmed).
NIP_LENGTH = 18
NIP_SEX_DIGITS = MappingProxyType({"1": "L", "2": "P"})

# --- Privacy -----------------------------------------------------------------------
# UU 27/2022 (Pelindungan Data Pribadi) asks that no individual be identifiable; the
# threshold itself is a project choice (statistical disclosure control practice).
MIN_CELL_SIZE = 5
