"""Figures and tables: deterministic bytes, print resolution, names, captions, locale display."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402
from PIL import Image  # noqa: E402

from asn_eval.report.figures import (  # noqa: E402
    FULL_WIDTH,
    HALF_WIDTH,
    MARKERS,
    MIN_FONT_PT,
    PALETTE,
    TEXT_WIDTH,
    FigureRegistry,
    figure_caption,
    figure_size,
    save_figure,
    saved_size,
    series_style,
    smallest_font_pt,
    use_style,
    wrap_label,
)
from asn_eval.report.tables import TableRegistry, display_table, save_table  # noqa: E402


def _figure():
    use_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    x = np.arange(-3, 4)
    ax.errorbar(x, 0.1 * x, yerr=0.05, marker="o")
    ax.axhline(0, color="grey")
    ax.set_xlabel("Tahun relatif terhadap adopsi")
    ax.set_title("Studi peristiwa")
    return fig


def test_saved_figure_bytes_are_identical_across_runs(tmp_path):
    first = save_figure(_figure(), tmp_path / "a", 3, 2, "event_study", caption="X", lang="id")
    second = save_figure(_figure(), tmp_path / "b", 3, 2, "event_study", caption="X", lang="id")
    for fmt in ("png", "svg"):
        assert first.paths[fmt].read_bytes() == second.paths[fmt].read_bytes(), fmt
    svg = first.paths["svg"].read_text()
    assert "<dc:date>" not in svg  # no run date stamped in the file
    png = first.paths["png"].read_bytes()
    assert b"Software" not in png  # no matplotlib version stamp either


def test_figure_name_resolution_and_caption(tmp_path):
    already_open = plt.get_fignums()  # figures other tests left open in this process
    saved = save_figure(
        _figure(), tmp_path, 3, 2, "event_study", caption="Studi peristiwa SKP", lang="id"
    )
    assert saved.paths["png"] == tmp_path / "figures" / "3-2_event_study.png"
    assert saved.paths["svg"] == tmp_path / "figures" / "3-2_event_study.svg"
    dpi = Image.open(saved.png).info["dpi"]
    assert dpi == pytest.approx((300, 300), abs=0.1)
    assert saved.caption == "Gambar 3.2. Studi peristiwa SKP"
    # the notebook display embeds the file itself, with no machine-specific path
    assert repr(saved) == "Gambar 3.2. Studi peristiwa SKP (figures/3-2_event_study.png)"
    assert "<figcaption>Gambar 3.2. Studi peristiwa SKP</figcaption>" in saved._repr_html_()
    # saving closed the figure, so the inline backend does not show it a second time
    assert plt.get_fignums() == already_open


def test_registry_numbers_figures_in_order_and_captions_in_english(tmp_path):
    registry = FigureRegistry(tmp_path, chapter=4, lang="en")
    a = registry.save(_figure(), "adoption_curve", "Digital adoption by age band")
    b = registry.save(_figure(), "budget", "Training places", formats=("png", "pdf"))
    assert (a.number, b.number) == (1, 2)
    assert b.caption == "Figure 4.2. Training places"
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "4-1_adoption_curve.png",
        "4-1_adoption_curve.svg",
        "4-2_budget.pdf",
        "4-2_budget.png",
    ]
    assert figure_caption(1, 1, "Pegawai per OPD", "id") == "Gambar 1.1. Pegawai per OPD"


def test_style_uses_the_colour_blind_safe_palette():
    use_style()
    cycle = [to_hex(c).upper() for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [c.upper() for c in PALETTE]
    assert plt.rcParams["savefig.dpi"] == 300


# Colour-vision deficiencies as linear-RGB transforms, severity 1 (Machado, Oliveira and
# Fernandes 2009, "A physiologically-based model for simulation of color vision deficiency",
# IEEE TVCG 15(6), Table 1).
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip
# Okabe and Ito's own palette is at least this far apart (CIE76 Delta E) in every vision.
MIN_DELTA_E = 15.0


def _linear(colour) -> np.ndarray:
    c = np.asarray(to_rgb(colour))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _contrast_with_white(colour) -> float:
    """WCAG 2.1 contrast ratio (L_white + 0.05) / (L + 0.05) of relative luminances."""
    luminance = float(_linear(colour) @ [0.2126, 0.7152, 0.0722])
    return 1.05 / (luminance + 0.05)


def _lab(linear: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear-RGB colour."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear  # fmt: skip
    t = xyz / [0.95047, 1.0, 1.08883]
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_palette_prints_on_white_and_stays_apart_in_colour_blind_vision():
    # Every colour has the 3:1 contrast WCAG asks of graphics: the pale yellow line of
    # Fig. 2.2 (Okabe-Ito's #F0E442, 1.3:1) would fail.
    assert _contrast_with_white("#F0E442") < 3.0
    low = {c: round(_contrast_with_white(c), 2) for c in PALETTE if _contrast_with_white(c) < 3}
    assert not low, low
    assert len(set(PALETTE)) == len(PALETTE) == 8  # eight agency types in Fig. 2.2
    for vision, matrix in {"normal": np.eye(3), **CVD}.items():
        seen = {c: _lab(np.clip(np.asarray(matrix) @ _linear(c), 0, 1)) for c in PALETTE}
        close = [
            (a, b, round(float(np.linalg.norm(seen[a] - seen[b])), 1))
            for i, a in enumerate(PALETTE)
            for b in PALETTE[i + 1 :]
            if np.linalg.norm(seen[a] - seen[b]) < MIN_DELTA_E
        ]
        assert not close, (vision, close)


def test_many_series_differ_in_colour_and_marker():
    assert len(set(MARKERS)) == len(MARKERS) == len(PALETTE)
    styles = [series_style(i) for i in range(len(PALETTE))]
    assert [s["color"] for s in styles] == list(PALETTE)
    assert [s["marker"] for s in styles] == list(MARKERS)


def test_long_labels_wrap_between_words_and_are_never_cut():
    name = "Dinas Pemberdayaan Perempuan dan Perlindungan Anak"
    wrapped = wrap_label(name, 30)
    assert wrapped == "Dinas Pemberdayaan Perempuan\ndan Perlindungan Anak"
    assert wrapped.replace("\n", " ") == name and "…" not in wrapped
    assert wrap_label("Puskesmas Oebobo") == "Puskesmas Oebobo"
    assert wrap_label("Penyelenggaraan-Pemerintahan", 10) == "Penyelenggaraan-Pemerintahan"
    # a unit joined by no-break spaces moves to the next line whole
    unit = "(poin\u00a0persentase)"
    assert wrap_label(f"Predikat SKP Baik atau lebih {unit}", 34).endswith(f"\n{unit}")


def test_type_scale_prints_nothing_under_7_pt():
    use_style()
    for key in ("font.size", "axes.labelsize", "axes.titlesize", "legend.fontsize"):
        assert plt.rcParams[key] >= MIN_FONT_PT, key
    for key in ("xtick.labelsize", "ytick.labelsize"):
        assert plt.rcParams[key] >= MIN_FONT_PT, key
    fig, ax = plt.subplots(figsize=figure_size("half"))
    ax.plot([0, 1], [0, 1], label="a")
    ax.set_title("Judul")
    ax.legend()
    ax.annotate("catatan", (0.5, 0.5))
    assert smallest_font_pt(fig) >= MIN_FONT_PT
    plt.close(fig)


def test_figure_sizes_fit_the_a4_text_column():
    # A4 210 mm less 2 x 18 mm margins less 2 x 10.5 pt body padding (report.css)
    assert TEXT_WIDTH == pytest.approx((210 - 36) / 25.4 - 21 / 72, abs=0.005)
    assert figure_size("full") == (FULL_WIDTH, round(FULL_WIDTH * 0.6, 4))
    assert figure_size("half", aspect=1) == (HALF_WIDTH, HALF_WIDTH)
    assert 2 * HALF_WIDTH <= FULL_WIDTH < TEXT_WIDTH
    with pytest.raises(ValueError) as err:
        figure_size(8.0)
    assert str(err.value).startswith("A figure 8.0 in wide does not fit the 6.3 in text column")


def test_smallest_font_is_measured_at_the_printed_size(tmp_path):
    use_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1])
    ax.text(0.5, 0.5, "kecil", fontsize=5)
    ax.text(0.2, 0.2, "", fontsize=2)  # empty text prints nothing
    assert smallest_font_pt(fig) == 5
    plt.close(fig)
    # a figure drawn wider than the text column is shrunk to it, and its text with it
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.plot([0, 1])
    width = saved_size(fig)[0]
    assert smallest_font_pt(fig) == pytest.approx(
        plt.rcParams["xtick.labelsize"] * TEXT_WIDTH / width
    )
    saved = save_figure(fig, tmp_path, 1, 1, "wide")
    # saved_size is what bbox_inches="tight" writes, to the pixel at 300 dpi
    assert saved.width_in == pytest.approx(width, abs=1 / 300 + 0.005)
    assert Image.open(saved.png).size[0] / 300 == pytest.approx(width, abs=1 / 300)


def test_report_shows_a_saved_figure_at_its_saved_width(tmp_path):
    use_style()
    fig, ax = plt.subplots(figsize=figure_size("half"))
    ax.plot([0, 1])
    saved = save_figure(fig, tmp_path, 2, 1, "half")
    pixels = Image.open(saved.png).size[0]
    assert saved.width_in == round(pixels / 300, 2)
    assert f'style="width:{saved.width_in:.2f}in;max-width:100%"' in saved._repr_html_()


def test_bad_slug_message(tmp_path):
    with pytest.raises(ValueError) as err:
        save_figure(_figure(), tmp_path, 1, 1, "Event Study")
    assert str(err.value).startswith("Figure slug 'Event Study' must be lower-case")
    plt.close("all")


TABLE = pd.DataFrame(
    {
        "agency": ["Dinas Kesehatan", "Badan & Sekretariat_X"],
        "employees": [1234, 57],
        "jp_per_person": [21.25, np.nan],
        "share_20jp": [0.456, "x"],  # "x": a cell suppressed for privacy
    }
)


def test_save_table_writes_values_csv_and_locale_booktabs_latex(tmp_path):
    saved = save_table(
        TABLE,
        tmp_path,
        2,
        1,
        "jp_by_agency",
        "JP per pegawai",
        "id",
        percent=["share_20jp"],
        note="x: disembunyikan",
    )
    csv = (tmp_path / "tables" / "2-1_jp_by_agency.csv").read_text()
    assert csv.splitlines() == [
        "agency,employees,jp_per_person,share_20jp_share",
        "Dinas Kesehatan,1234,21.25,0.456",
        "Badan & Sekretariat_X,57,,x",
    ]
    tex = saved.paths["tex"].read_text()
    for piece in (
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
        r"\caption{JP per pegawai}",  # LaTeX numbers the table itself
        r"\label{tab:jp_by_agency}",
        r"output-decimal-marker={,}",  # siunitx writes 21.3 as 21,3 and 1234 as 1.234
        r"Dinas Kesehatan & 1234 & 21.3 & 45,6\% \\",  # 21.25 rounds half-up to 21,3
        r"Badan \& Sekretariat\_X & 57 & {–} & x \\",
        r"\footnotesize x: disembunyikan",
    ):
        assert piece in tex, piece
    assert r"\begin{tabular}{lS[table-format=4.0]S[table-format=2.1]r}" in tex
    assert repr(saved) == "Tabel 2.1. JP per pegawai (tables/2-1_jp_by_agency.csv)"


def test_display_table_is_deterministic_and_captioned():
    first = display_table(TABLE, 2, 1, "JP per employee", "en", percent=["share_20jp"]).data
    second = display_table(TABLE, 2, 1, "JP per employee", "en", percent=["share_20jp"]).data
    assert first == second
    assert "<caption>Table 2.1. JP per employee</caption>" in first
    assert 'id="T_2_1_table"' in first
    assert ">1,234</td>" in first and ">45.6%</td>" in first
    assert "Badan &amp; Sekretariat_X" in first


def test_table_registry_numbers_in_order(tmp_path):
    registry = TableRegistry(tmp_path, chapter=5, lang="en")
    registry.save(TABLE, "findings", "Findings")
    second = registry.save(TABLE, "recommendations", "Recommendations")
    assert second.caption == "Table 5.2. Recommendations"
    assert (tmp_path / "tables" / "5-2_recommendations.tex").exists()


NOTEBOOK_CELLS = [
    "import matplotlib.pyplot as plt\nimport pandas as pd\n"
    "from asn_eval.report.figures import save_figure, use_style\n"
    "from asn_eval.report.tables import display_table\nuse_style()",
    "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\n"
    "save_figure(fig, 'out', 3, 1, 'line', caption='Garis', lang='id')",
    "display_table(pd.DataFrame({'a': [1.5, 2.25]}), 2, 1, 'Uji', 'id')",
]


@pytest.mark.slow  # two kernel starts: about 30 s on a shared 2-core machine
def test_notebook_outputs_are_identical_across_kernel_runs(tmp_path):
    """What CI's nbval relies on: same outputs in two fresh kernels, figure shown once."""
    import nbformat
    from nbclient import NotebookClient

    outputs = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS]
        NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
        outputs.append([cell["outputs"] for cell in nb.cells])
    assert outputs[0] == outputs[1]
    figure_outputs = outputs[0][1]
    # one output: the saved PNG with its caption; the inline backend does not add a second
    assert len(figure_outputs) == 1
    assert "Gambar 3.1. Garis" in figure_outputs[0]["data"]["text/html"]
    assert "Tabel 2.1. Uji" in outputs[0][2][0]["data"]["text/html"]
