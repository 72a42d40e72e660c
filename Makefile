# Two commands for a newcomer: `make demo` runs the main job in a fresh temporary
# workspace; `make test` installs the test extras and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# When another program holds the system package manager's lock (unattended-upgrades,
# another apt), apt-get waits for it, up to 5 minutes, instead of failing at once.
APT_LOCK := -o DPkg::Lock::Timeout=300
APT_WAIT := { fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1 && echo "waiting up to 5 minutes for another program to release the package manager's lock..." || true; } &&

.PHONY: demo test lint install bench clean chromium postgresql dovecot openssl openssh fonts catalogue timetool hunspell a11y

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'

demo: $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	$(BIN)/python scripts/demo.py

# The HTML report test opens the report in headless Chromium (Debian's package);
# without it that test skips, saying why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq chromium; \
	} || echo "chromium could not be installed: tests/test_report_html.py will skip its browser checks"

# The console's pages are checked in Chromium by the Nu HTML Checker (vnu, a Java jar: the
# npm package vnu-jar, run with Debian's java) and axe-core (the npm package, injected into
# each page): tests/console/test_valid_accessible.py. Both go to .tools/ (pinned); without
# them (or java) that test skips, saying why.
A11Y_TOOLS := .tools/node_modules/vnu-jar/build/dist/vnu.jar .tools/node_modules/axe-core/axe.min.js
a11y:
	@command -v java >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq default-jre-headless; \
	} || echo "java could not be installed: the vnu half of tests/console/test_valid_accessible.py will skip"
	@ls $(A11Y_TOOLS) >/dev/null 2>&1 || npm install --silent --no-audit --no-fund --prefix .tools vnu-jar@26.9.27 axe-core@4.14.1 \
	  || echo "vnu-jar and axe-core could not be installed from npm: tests/console/test_valid_accessible.py will skip"

# tests/test_template_grammar.py checks the spelling of every shipped statement with Debian's
# hunspell dictionaries (es_ES, en_US); without them that test skips, saying why.
hunspell:
	@{ command -v hunspell >/dev/null 2>&1 && [ -f /usr/share/hunspell/es_ES.dic ] && [ -f /usr/share/hunspell/en_US.dic ]; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq hunspell hunspell-es hunspell-en-us; \
	} || echo "hunspell could not be installed: tests/test_template_grammar.py will skip its spelling check"

# The PostgreSQL half of the store tests starts its own server from Debian's package
# (initdb/pg_ctl in a temporary folder); without it that half skips, saying why.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq postgresql; \
	} || echo "postgresql could not be installed: the PostgreSQL half of the tests will skip"

# The IMAP source's tests start their own dovecot (Debian's dovecot-imapd) on 127.0.0.1 in a
# temporary folder (tests/dovecot_server.py); without it those tests skip, saying why.
dovecot:
	@[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq dovecot-imapd; \
	} || echo "dovecot-imapd could not be installed: the IMAP source's tests will skip"

# The time-witness tests run a real RFC 3161 authority: OpenSSL's `ts -reply` (Debian's openssl).
openssl:
	@command -v openssl >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq openssl; \
	}

# Signed actions use ssh-keygen -Y (Debian's openssh-client); without it those tests skip.
openssh:
	@command -v ssh-keygen >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq openssh-client; \
	} || echo "openssh-client could not be installed: the signing tests will skip"

# The Instagram channel draws its cards with DejaVu Sans (Debian's fonts-dejavu-core), also
# at run time; without it its tests skip, saying why.
fonts:
	@[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq fonts-dejavu-core; \
	} || echo "fonts-dejavu-core could not be installed: the Instagram tests will skip"

test: install chromium hunspell postgresql dovecot openssl openssh fonts a11y
	$(BIN)/python -m pytest

# ruff (pyflakes, bugbear, syntax errors) and mypy on publisher/ and channels/, as
# configured in pyproject.toml; both must pass.
lint: install
	$(BIN)/ruff check publisher channels
	$(BIN)/mypy

# Apprise (the comparison) comes from PyPI through the `bench` extra, pinned; the run
# prints one table, keeps it in bench/results/ and rewrites the README's Performance table.
# Peak memory of each measured process comes from /usr/bin/time (Debian's time).
timetool:
	@test -x /usr/bin/time || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $(APT_WAIT) $$SUDO apt-get $(APT_LOCK) update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get $(APT_LOCK) install -y -qq time; \
	} || echo "time could not be installed: peak memory falls back to the kernel's count, which includes the bench's own"

bench: $(BIN)/python timetool
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python bench/run.py --readme

# The interface's sentences: extract them with Babel (babel.cfg) into publisher/locale/publish.pot
# and update each language's .po and the .mo compiled from it; `--check` names every sentence still
# without a translation and every .mo not compiled from its .po.
catalogue: install
	$(BIN)/python scripts/catalogue.py
	$(BIN)/python scripts/catalogue.py --check

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
