# The two commands a user types: `make demo` and `make test`. Each creates or updates .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install node-deps bench zoo foreign hub clean

install: $(STAMP)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Neo4j's Cypher linter (npm) checks every statement we send to Neo4j, without a server.
node-deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

lint: $(STAMP)
	$(BIN)/ruff check modelgenes tests benchmarks scripts
	$(BIN)/ruff format --check modelgenes tests benchmarks scripts
	$(BIN)/mypy

test: $(STAMP) node-deps lint
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

bench: $(STAMP)
	$(BIN)/python benchmarks/store_write.py

# The test corpus under tests/data/zoo is committed; this rebuilds it (needs torch, not used by `make test`).
zoo:
	test -x .venv-zoo/bin/python || $(PYTHON) -m venv .venv-zoo
	.venv-zoo/bin/python -m pip install --quiet torch==2.13.0 transformers onnx onnxruntime onnxscript numpy
	.venv-zoo/bin/python scripts/build_zoo.py --out tests/data/zoo

# TensorFlow/Keras and PaddlePaddle exports (tests/data/foreign), each toolchain in its own venv.
foreign:
	test -x .venv-tf/bin/python || $(PYTHON) -m venv .venv-tf
	.venv-tf/bin/python -m pip install --quiet tensorflow-cpu tf-keras tf2onnx onnx onnxruntime
	.venv-tf/bin/python scripts/build_foreign_exports.py --exporter tf2onnx
	test -x .venv-paddle/bin/python || $(PYTHON) -m venv .venv-paddle
	.venv-paddle/bin/python -m pip install --quiet paddlepaddle paddle2onnx onnx onnxruntime packaging
	.venv-paddle/bin/python scripts/build_foreign_exports.py --exporter paddle2onnx

# Hugging-Face-cache-style sample folders (tests/data/hub) and the lineage models (tests/data/lineage).
hub: $(STAMP)
	$(BIN)/python scripts/build_hub_samples.py
	test -x .venv-zoo/bin/python || $(MAKE) zoo
	.venv-zoo/bin/python scripts/build_lineage.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
