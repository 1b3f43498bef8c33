# Sourced by scripts/demo and scripts/test: creates or updates ./.venv with ccmon installed.
# Needs only python3 >= 3.11; on Debian, installs python3-venv when run as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "ccmon: please install the Debian package(s) $*: sudo apt-get install $*" >&2
        exit 1
    fi
    echo "ccmon: installing $* with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "ccmon: needs python3 >= 3.11, found $(python3 --version 2>&1)" >&2
    exit 1
}
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv

# The console's third-party assets (Leaflet with marker clustering and Geoman's drawing,
# Chart.js, gcoord; Swagger UI for /docs) from the npm registry, copied into the package's
# static files (before ccmon is installed: they are part of the package); again only when
# api/console/package-lock.json changes.
console=api/console
vendor="$console/static/vendor"
want_vendor="$(sha256sum "$console/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$vendor/.installed" 2>/dev/null)" != "$want_vendor" ]; then
    command -v npm >/dev/null || apt_install npm
    # --ignore-scripts: no package runs code at install (swagger-ui-dist's dependency
    # @scarf/scarf would try to report the install to its own site).
    npm ci --prefix "$console" --no-audit --no-fund --ignore-scripts --loglevel=error
    rm -rf "$vendor" && mkdir -p "$vendor/images"
    modules="$console/node_modules"
    cp "$modules/leaflet/dist/leaflet.js" "$modules/leaflet/dist/leaflet.css" "$vendor/"
    cp "$modules/leaflet/dist/images/"*.png "$vendor/images/"
    cp "$modules/leaflet.markercluster/dist/leaflet.markercluster.js" \
       "$modules/leaflet.markercluster/dist/MarkerCluster.css" \
       "$modules/leaflet.markercluster/dist/MarkerCluster.Default.css" "$vendor/"
    cp "$modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js" \
       "$modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css" "$vendor/"
    cp "$modules/chart.js/dist/chart.umd.min.js" "$modules/gcoord/dist/gcoord.global.prod.js" "$vendor/"
    cp "$modules/swagger-ui-dist/swagger-ui-bundle.js" "$modules/swagger-ui-dist/swagger-ui.css" "$vendor/"
    echo "$want_vendor" > "$vendor/.installed"
fi

extras="${CCMON_EXTRAS:-}"
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.ccmon-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) [$extras]"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet --editable ".$extras"
    echo "$want" > "$stamp"
fi

# The compiled kernels, once (numba caches them beside their sources): ~15 s now, not at
# first use; again when any of their parts' sources changed, after dropping the caches:
# numba sees a kernel's own file change, not a constant it takes from another file
# (alerts/tracks.py's COLUMNS in alerts/proximity.py's kernel), and would run the old one.
kernels="$(cat alerts/*.py geofence/*.py domain/*.py | sha256sum | cut -d' ' -f1)"
if [ "$(cat .venv/.ccmon-kernels 2>/dev/null)" != "$kernels" ]; then
    find alerts geofence domain -path '*/__pycache__/*' \( -name '*.nbi' -o -name '*.nbc' \) -delete
    .venv/bin/python -c "import alerts, geofence; geofence.warm_up(); alerts.warm_up()"
    echo "$kernels" > .venv/.ccmon-kernels
fi
