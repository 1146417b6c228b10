"""The kabupaten and kota of Nusa Tenggara Timur (NTT) province, by their region code.

The comparison group of Kota Kupang's Dukcapil office (:mod:`asn_eval.analysis.impact`,
``dukcapil_sdid``) is the Dukcapil offices of the other regencies and cities of the province;
the synthetic generator names them with these codes and names.

UNCONFIRMED: the codes and names are written from memory of the Kemendagri/BPS region codes
(Permendagri on kode wilayah; BPS "Master File Desa"), not read from the official list. Check
them against BPS (https://sig.bps.go.id) before the comparison table of a real export is
matched to them. Checked so far, against secondary public pages only: the province has 21
kabupaten and one kota (province code 53 at both Kemendagri and BPS), and the 21 names below
are the kabupaten those pages list (for example a list of vehicle registration areas by
island, buliran.com). The four-digit codes and their order are not checked.
"""

from __future__ import annotations

PROVINCE = "Nusa Tenggara Timur"
# Kota Kupang's own code; the other 21 are its comparison offices.
KOTA_KUPANG = "5371"
# code -> name (UNCONFIRMED, see the module docstring)
NTT_REGIONS: dict[str, str] = {
    "5301": "Kabupaten Sumba Barat",
    "5302": "Kabupaten Sumba Timur",
    "5303": "Kabupaten Kupang",
    "5304": "Kabupaten Timor Tengah Selatan",
    "5305": "Kabupaten Timor Tengah Utara",
    "5306": "Kabupaten Belu",
    "5307": "Kabupaten Alor",
    "5308": "Kabupaten Lembata",
    "5309": "Kabupaten Flores Timur",
    "5310": "Kabupaten Sikka",
    "5311": "Kabupaten Ende",
    "5312": "Kabupaten Ngada",
    "5313": "Kabupaten Manggarai",
    "5314": "Kabupaten Rote Ndao",
    "5315": "Kabupaten Manggarai Barat",
    "5316": "Kabupaten Sumba Tengah",
    "5317": "Kabupaten Sumba Barat Daya",
    "5318": "Kabupaten Nagekeo",
    "5319": "Kabupaten Manggarai Timur",
    "5320": "Kabupaten Sabu Raijua",
    "5321": "Kabupaten Malaka",
}
