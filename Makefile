# One-command set-up: every target creates the environment (.venv) first if needed.
#   make demo   release the notebooks and autograde the bundled example class
#   make test   the whole test suite (what CI runs)
#   make lab    JupyterLab on the student notebooks (no instructor panels)
#   make formgrader  JupyterLab for instructors, with nbgrader's formgrader on the graded class
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
# On the course's build machines MNIST sits beside the repository; elsewhere it is
# downloaded on first use into data/ (see utils/data.py).
ifneq ($(wildcard ../shared/data/mnist.npz),)
export MNIST_PATH ?= $(abspath ../shared/data/mnist.npz)
endif
PYTEST_ARGS ?=

.PHONY: install demo test test-fast lab formgrader release check solutions clean

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python -m grader demo

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow and not browser" $(PYTEST_ARGS)

# JupyterLab for students: notebooks/ as the root folder, figures inline (whatever
# MPLBACKEND the shell has), nbgrader's student tools on (Validate button in each
# notebook, Nbgrader > Assignment List) and its instructor panels off for this launch
# (Formgrader, Create Assignment, Course List: see jupyter/README.md). Extra options:
# make lab LAB_ARGS="--port=8899"; another folder: make lab LAB_ROOT=path
# (tests/test_browser.py runs it this way).
ALLOW_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root)
lab: LAB_ROOT ?= notebooks
lab: install
	JUPYTER_CONFIG_PATH="$(abspath jupyter/student)$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))" \
	MPLBACKEND=module://matplotlib_inline.backend_inline $(BIN)/jupyter lab \
	  --ServerApp.root_dir="$(LAB_ROOT)" $(ALLOW_ROOT) $(LAB_ARGS)

# JupyterLab for instructors: the repository as the root folder and every nbgrader
# panel, with Nbgrader > Formgrader on a graded class: COURSE_BUILD (default
# build/course once a class was graded there, else build/demo from make demo).
# nbgrader_config.py reads the folder from CNN_COURSE_BUILD.
formgrader: COURSE_BUILD ?= $(if $(wildcard build/course/gradebook.db),build/course,build/demo)
formgrader: install
	@test -f "$(COURSE_BUILD)/gradebook.db" || { echo "no gradebook in $(COURSE_BUILD): run make demo, or python -m grader autograde SUBMISSIONS first"; exit 2; }
	@echo "formgrader on $(COURSE_BUILD)/gradebook.db: in JupyterLab, Nbgrader > Formgrader"
	CNN_COURSE_BUILD="$(abspath $(COURSE_BUILD))" \
	MPLBACKEND=module://matplotlib_inline.backend_inline $(BIN)/jupyter lab \
	  --ServerApp.root_dir="$(CURDIR)" $(ALLOW_ROOT) $(LAB_ARGS)

release: install
	$(BIN)/python -m grader release

check: install
	$(BIN)/python -m grader check

solutions: install
	$(BIN)/python -m grader solutions

clean:
	rm -rf build
