#!/usr/bin/env bash
# Build MOSS for macOS: dist/MOSS.app (the spec's BUNDLE) and a drag-to-Applications disk image, then smoke-test the
# app inside the image. Runs on macOS only (hdiutil); .github/workflows/installers.yml runs it on a macos-latest
# runner. It is not run on the Linux machines where MOSS is developed. Usage:
#     packaging/macos/make_dmg.sh [--skip-build]
# The app is not signed with a Developer ID nor notarised (PyInstaller signs it ad hoc): on first start, macOS asks
# the user to confirm it (right-click > Open, or System Settings > Privacy & Security > Open Anyway). Set
# CODESIGN_IDENTITY to sign the app and the image with your certificate; notarise with `xcrun notarytool` afterwards.
set -euo pipefail

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
[[ "$(uname)" == Darwin ]] || { echo "make_dmg.sh: macOS only (hdiutil)" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

VERSION="$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
ARCH="$(uname -m)"  # arm64 on Apple silicon runners (macos-latest), x86_64 on Intel ones (macos-13)
APP="dist/MOSS.app"
DMG="dist/moss-$VERSION-macos-$ARCH.dmg"

if [[ "${1:-}" != --skip-build ]]; then
    start=$(date +%s)
    "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN packaging/moss.spec
    echo "built in $(( $(date +%s) - start )) s"
fi
[[ -x "$APP/Contents/MacOS/MOSS" ]] || { echo "make_dmg.sh: no $APP" >&2; exit 1; }

if [[ -n "${CODESIGN_IDENTITY:-}" ]]; then
    codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$APP"
fi
"$PYTHON" packaging/smoke_frozen.py "$APP/Contents/MacOS/MOSS" --report dist/self-test-app.json \
    --expect frozen=true --label "MOSS.app, first start after the build"

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "MOSS $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -imagekey zlib-level=9 -ov "$DMG"
if [[ -n "${CODESIGN_IDENTITY:-}" ]]; then
    codesign --sign "$CODESIGN_IDENTITY" --timestamp "$DMG"
fi

# the app as a user gets it: from the mounted image
MOUNT="$(mktemp -d)"
hdiutil attach "$DMG" -nobrowse -readonly -mountpoint "$MOUNT" >/dev/null
status=0
"$PYTHON" packaging/smoke_frozen.py "$MOUNT/MOSS.app/Contents/MacOS/MOSS" --report dist/self-test-dmg.json \
    --expect frozen=true --label "MOSS.app from the disk image" || status=$?
hdiutil detach "$MOUNT" >/dev/null
[[ $status == 0 ]] || exit "$status"

echo "app: $(du -sm "$APP" | cut -f1) MB; disk image: $(( $(stat -f %z "$DMG") / 1000000 )) MB: $DMG"
