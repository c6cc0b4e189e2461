#!/usr/bin/env bash
# Build MOSS for Linux: the PyInstaller bundle dist/MOSS/, a .tar.gz of it and a .deb, then smoke-test the frozen app.
# Run from anywhere; see --help and packaging/README.md.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: packaging/build_linux.sh [options]

Builds, from the repository's working tree and the Python environment it runs in (PYTHON, default python3):
  dist/MOSS/                               the PyInstaller onedir bundle (dist/MOSS-cuda/ with a CUDA torch)
  dist/moss-VERSION-linux-x86_64.tar.gz    that bundle in a tarball (moss-cuda-... for the CUDA variant)
  dist/moss_VERSION_amd64.deb              /opt/moss, /usr/bin/moss-app, a menu entry and icons (moss-cuda_...)
then runs the frozen app's --self-test three times (first start after the build; a start with the bundle evicted
from the page cache; a start on the bundled PortAudio) and, where xvfb-run exists, a fourth on X11 (xcb), and fails
if any fails. It prints the build time, the sizes and the start times, and writes them to dist/build-figures.json.

Options:
  --skip-build      reuse dist/MOSS/ from an earlier build (package and test it)
  --no-tar          do not make the .tar.gz
  --no-deb          do not make the .deb
  --install-test    after building: install the .deb (apt-get install ./...deb, or dpkg -i), check the menu entry
                    and the icon, run `moss-app --self-test` from /usr/bin, then remove the package (root or sudo)
  -h, --help        this text

Environment:
  PYTHON            the Python with MOSS's requirements, PyInstaller and the torch to bundle (default: python3)
  DEB_COMPRESSION   dpkg-deb's compressor: xz (default, smallest), zstd or gzip (faster builds)
Needs: PyInstaller >= 6.5 (pip install -e .[packaging]), dpkg-deb, the system's libportaudio2 (bundled as the
fallback PortAudio); the build machine's glibc is the oldest the bundle runs on.
EOF
}

SKIP_BUILD=0 MAKE_TAR=1 MAKE_DEB=1 INSTALL_TEST=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --skip-build) SKIP_BUILD=1 ;;
        --no-tar) MAKE_TAR=0 ;;
        --no-deb) MAKE_DEB=0 ;;
        --install-test) INSTALL_TEST=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "build_linux.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGING="$ROOT/packaging"
PYTHON="${PYTHON:-python3}"
DIST="$ROOT/dist"
WORK="$ROOT/build/pyinstaller"
cd "$ROOT"

say() { printf '\n== %s\n' "$*"; }
mb() { "$PYTHON" -c "import sys; print(f'{int(sys.argv[1]) / 1e6:.1f}')" "$1"; }

VERSION="$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
VARIANT="$("$PYTHON" -c 'import torch; print("cuda" if torch.version.cuda else "cpu")')"
if [[ "$VARIANT" == cuda ]]; then
    NAME=MOSS-cuda PACKAGE=moss-cuda OTHER=moss TORCH_NOTE=" with CUDA"
else
    NAME=MOSS PACKAGE=moss OTHER=moss-cuda TORCH_NOTE=" for the CPU"
fi
BUNDLE="$DIST/$NAME"
EXE="$BUNDLE/moss-app"
TARBALL="$DIST/$PACKAGE-$VERSION-linux-$(uname -m).tar.gz"
DEB="$DIST/${PACKAGE}_${VERSION}_amd64.deb"
FIGURES="$DIST/build-figures.json"
mkdir -p "$DIST"
rm -f "$DIST"/start-*.json "$DIST"/self-test-*.json "$FIGURES"
echo "MOSS $VERSION, $VARIANT variant ($("$PYTHON" -c 'import torch; print("torch", torch.__version__)')), into $DIST"

# --- 1. the bundle ----------------------------------------------------------------------------------------------------
BUILD_S=null
if [[ $SKIP_BUILD == 0 ]]; then
    say "PyInstaller: $BUNDLE"
    start=$(date +%s.%N)
    "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$DIST" --workpath "$WORK" \
        "$PACKAGING/moss.spec"
    BUILD_S=$("$PYTHON" -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$start" \
        "$(date +%s.%N)")
    echo "built in $BUILD_S s"
fi
[[ -x "$EXE" ]] || { echo "build_linux.sh: no $EXE (build first, without --skip-build)" >&2; exit 1; }
BUNDLE_BYTES=$(du -sb "$BUNDLE" | cut -f1)

# --- 2. the frozen app's self-test, and its start times -----------------------------------------------------------------
say "frozen self-test"
SMOKE=("$PYTHON" "$PACKAGING/smoke_frozen.py" "$EXE" --expect frozen=true --expect "variant=$VARIANT")
"${SMOKE[@]}" --report "$DIST/self-test-first.json" --json "$DIST/start-first.json" \
    --label "first start after the build (bundle files still in the page cache)"
"${SMOKE[@]}" --report "$DIST/self-test-cold.json" --json "$DIST/start-cold.json" --evict "$BUNDLE" \
    --label "start with the bundle evicted from the page cache"
"${SMOKE[@]}" --report "$DIST/self-test-portaudio.json" --json "$DIST/start-portaudio.json" \
    --env MOSS_PORTAUDIO=bundled --expect portaudio_bundled=true --label "start on the bundled PortAudio"
if command -v xvfb-run >/dev/null; then
    xvfb-run -a -s "-screen 0 1600x1000x24" "${SMOKE[@]}" --report "$DIST/self-test-xcb.json" \
        --json "$DIST/start-xcb.json" --env QT_QPA_PLATFORM=xcb --expect qt_platform=xcb --label "start on X11 (Xvfb)"
else
    echo "(no xvfb-run: the X11 platform plugin is not tried)"
fi

# --- 3. the tarball ---------------------------------------------------------------------------------------------------
TAR_BYTES=null
if [[ $MAKE_TAR == 1 ]]; then
    say "tarball: $TARBALL"
    tar -C "$DIST" -cf - "$NAME" | gzip -6 > "$TARBALL"
    TAR_BYTES=$(stat -c %s "$TARBALL")
fi

# --- 4. the .deb ------------------------------------------------------------------------------------------------------
DEB_BYTES=null
if [[ $MAKE_DEB == 1 ]]; then
    say "Debian package: $DEB"
    STAGE="$ROOT/build/deb/${PACKAGE}_${VERSION}_amd64"
    rm -rf "$STAGE"
    mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
        "$STAGE/usr/share/doc/$PACKAGE"
    cp -a "$BUNDLE" "$STAGE/opt/moss"
    install -m 0755 "$PACKAGING/linux/moss-app" "$STAGE/usr/bin/moss-app"
    install -m 0644 "$PACKAGING/linux/moss-app.desktop" "$STAGE/usr/share/applications/moss-app.desktop"
    for size in 16 24 32 48 64 128 256 512; do
        install -D -m 0644 "$ROOT/resources/icons/moss-$size.png" \
            "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/moss-app.png"
    done
    cat > "$STAGE/usr/share/doc/$PACKAGE/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: MOSS
Comment: The app in /opt/moss bundles Python, Qt, PyTorch, FFmpeg, PortAudio, libsndfile and more. Their licences
 and the sample picture's and music's are in /opt/moss/_internal/THIRD_PARTY_NOTICES.md and notices/ beside it.

Files: *
Copyright: the MOSS authors
License: GPL-3.0-or-later
 On Debian systems, the full text is in /usr/share/common-licenses/GPL-3; it is also in
 /opt/moss/_internal/notices/licenses/GPL-3.0.txt.
EOF
    # the oldest glibc the bundle's own libraries ask for (the build machine's, in practice)
    GLIBC=$(find "$STAGE/opt/moss" -type f \( -name '*.so*' -o -name moss-app \) -exec objdump -T {} + 2>/dev/null \
        | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
    INSTALLED_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
    sed -e "s/@PACKAGE@/$PACKAGE/" -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$INSTALLED_KB/" \
        -e "s/@GLIBC@/$GLIBC/" -e "s/@CONFLICTS@/$OTHER/" -e "s/@TORCH_NOTE@/$TORCH_NOTE/" \
        "$PACKAGING/linux/control.in" > "$STAGE/DEBIAN/control"
    chmod -R u+rwX,go+rX,go-w "$STAGE"
    dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$STAGE" "$DEB" >/dev/null
    DEB_BYTES=$(stat -c %s "$DEB")
    dpkg-deb --info "$DEB" | sed -n 's/^ \(Package\|Version\|Installed-Size\|Depends\):/  \1:/p'
    CONTENTS="$(dpkg-deb --contents "$DEB" | awk '{print $6}')"
    for wanted in ./usr/bin/moss-app ./usr/share/applications/moss-app.desktop \
            ./usr/share/icons/hicolor/256x256/apps/moss-app.png ./opt/moss/moss-app \
            ./opt/moss/_internal/THIRD_PARTY_NOTICES.md ./opt/moss/_internal/portaudio/libportaudio.so.2; do
        grep -qx "$wanted" <<<"$CONTENTS" \
            || { echo "build_linux.sh: $wanted is missing from $DEB" >&2; exit 1; }
    done
    rm -rf "$STAGE"
fi

# --- 5. the installed .deb (optional) -----------------------------------------------------------------------------------
INSTALLED_START=null
if [[ $INSTALL_TEST == 1 ]]; then
    [[ $MAKE_DEB == 1 ]] || { echo "build_linux.sh: --install-test needs the .deb" >&2; exit 2; }
    SUDO=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || { echo "build_linux.sh: --install-test needs root or sudo" >&2; exit 2; }
        SUDO=(sudo)
    fi
    say "install test: $DEB"
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall "$DEB"; then
        echo "apt-get install failed (offline?): dpkg -i instead"
        "${SUDO[@]}" dpkg -i "$DEB"
    fi
    dpkg -s "$PACKAGE" | grep -q '^Status: install ok installed' || { echo "not installed" >&2; exit 1; }
    ENTRY=/usr/share/applications/moss-app.desktop
    grep -qx 'Exec=moss-app' "$ENTRY" || { echo "no menu entry starting moss-app at $ENTRY" >&2; exit 1; }
    if command -v desktop-file-validate >/dev/null; then
        desktop-file-validate "$ENTRY"
        echo "menu entry: $ENTRY (desktop-file-validate: valid)"
    else
        echo "menu entry: $ENTRY (desktop-file-validate not installed: not validated)"
    fi
    test -f /usr/share/icons/hicolor/256x256/apps/moss-app.png
    [[ -x /usr/bin/moss-app && -x /opt/moss/moss-app ]] || { echo "no /usr/bin/moss-app or /opt/moss" >&2; exit 1; }
    installed_ok=0
    "$PYTHON" "$PACKAGING/smoke_frozen.py" /usr/bin/moss-app --report "$DIST/self-test-installed.json" \
        --json "$DIST/start-installed.json" --expect frozen=true --label "installed .deb, /usr/bin/moss-app" \
        || installed_ok=$?
    INSTALLED_START=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["window_shown_s"])' \
        "$DIST/start-installed.json")
    "${SUDO[@]}" dpkg -r "$PACKAGE"
    [[ ! -e /usr/bin/moss-app && ! -e /opt/moss ]] || { echo "dpkg -r left files behind" >&2; exit 1; }
    [[ $installed_ok == 0 ]] || { echo "the installed app's self-test failed" >&2; exit "$installed_ok"; }
fi

# --- 6. the figures ---------------------------------------------------------------------------------------------------
say "figures"
"$PYTHON" - "$FIGURES" "$VERSION" "$VARIANT" "$BUILD_S" "$BUNDLE_BYTES" "$TAR_BYTES" "$DEB_BYTES" \
    "$INSTALLED_START" "$DIST" <<'EOF'
import json, sys
from pathlib import Path

out, version, variant, build_s, bundle, tar, deb, installed, dist = sys.argv[1:]
num = lambda text: None if text == "null" else float(text)
starts = {p.stem.removeprefix("start-"): json.loads(p.read_text()) for p in sorted(Path(dist).glob("start-*.json"))}
figures = {
    "version": version, "variant": variant, "build_s": num(build_s), "bundle_mb": round(num(bundle) / 1e6, 1),
    "tar_gz_mb": None if tar == "null" else round(num(tar) / 1e6, 1),
    "deb_mb": None if deb == "null" else round(num(deb) / 1e6, 1),
    "window_shown_s": {name: s["window_shown_s"] for name, s in starts.items()},
    "self_test_wall_s": {name: s["self_test_wall_s"] for name, s in starts.items()},
    "installed_window_shown_s": num(installed),
}
Path(out).write_text(json.dumps(figures, indent=2) + "\n")
print(f"build time: {figures['build_s']} s" if figures["build_s"] is not None else "build: reused")
print(f"bundle: {figures['bundle_mb']} MB; .tar.gz: {figures['tar_gz_mb']} MB; .deb: {figures['deb_mb']} MB")
for name, seconds in figures["window_shown_s"].items():
    print(f"window shown {seconds} s after launch ({name}); self-test {figures['self_test_wall_s'][name]} s")
print(f"figures: {out}")
EOF
