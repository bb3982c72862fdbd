# Two commands do all the set-up on a fresh machine:
#   make demo   build the demo database and serve the back office (sao)
#   make test   run the whole suite on SQLite and on PostgreSQL
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_DB ?= demo
DEMO_DIR := $(CURDIR)/var
PG_URI ?= postgresql://postgres@127.0.0.1:5432/

.PHONY: demo demo-rebuild test venv sao chromium libreoffice serve clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q '.[test]'
	touch $@

# the portal's signature pad (npm's signature_pad), shipped in the module
SIGNATURE_PAD := sale_subscription_contract/portal/static/vendor/signature_pad.umd.min.js
$(SIGNATURE_PAD): scripts/install_signature_pad.sh
	bash scripts/install_signature_pad.sh

# the module is installed under trytond/modules like the official ones;
# reinstall it whenever its files change
$(VENV)/.module: $(VENV)/.installed $(SIGNATURE_PAD) $(shell find sale_subscription_contract -type f -not -name '*.pyc')
	$(PY) -m pip install -q --no-deps --force-reinstall .
	touch $@

venv: $(VENV)/.module

sao:
	bash scripts/install_sao.sh

chromium:
	bash scripts/ensure_chromium.sh

# soffice converts the ODT invoice to the PDF e-mailed to customers
libreoffice:
	bash scripts/ensure_libreoffice.sh

DEMO_CUSTOMERS ?= 200
DEMO_MONTHS ?= 24

# built once (24 months of sales, billing runs, card charges, dunning and
# e-mails through the real code, ~3 minutes); the summary it writes last
# says it is complete; `make demo-rebuild` starts it over
$(DEMO_DIR)/$(DEMO_DB).json: | venv
	$(PY) -m demo.build --database $(DEMO_DIR)/$(DEMO_DB).sqlite \
		--customers $(DEMO_CUSTOMERS) --months $(DEMO_MONTHS) \
		--mail $(DEMO_DIR)/mail

demo-rebuild:
	rm -f $(DEMO_DIR)/$(DEMO_DB).json $(DEMO_DIR)/$(DEMO_DB).sqlite
	$(MAKE) demo

# trytond with sao, trytond-cron, a worker and the mail sink; it prints
# what to open and what to try
demo: venv sao libreoffice $(DEMO_DIR)/$(DEMO_DB).json
	$(PY) scripts/demo.py --db $(DEMO_DIR)/$(DEMO_DB).sqlite --port $(PORT) \
		--mail $(DEMO_DIR)/mail

test: venv sao chromium libreoffice
	bash scripts/run_tests.sh

clean:
	rm -rf $(VENV) .cache var
