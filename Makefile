# linux-vss: one non-recursive Makefile. Objects go to build/, mirroring the tree.
#
#   make            build everything          make check    every test
#   make deps       install Debian packages   make demo     the main job
#   make install    DESTDIR= PREFIX= LIBDIR=  make clean

VERSION      := 0.1.0
PREFIX       ?= /usr/local
SBINDIR      ?= $(PREFIX)/sbin
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
DATADIR      ?= $(PREFIX)/share
MANDIR       ?= $(DATADIR)/man
SYSCONFDIR   ?= /etc
PROVIDERDIR  ?= $(LIBDIR)/vss/providers
UNITDIR      ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR  ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR  ?= $(PREFIX)/lib/sysusers.d
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
# The system bus reads policies only from /usr/share and /etc, and activation
# files from $(DATADIR)/dbus-1/system-services for /usr and /usr/local.
DBUSSERVICEDIR ?= $(DATADIR)/dbus-1/system-services
ifeq ($(PREFIX),/usr)
DBUSPOLICYDIR ?= $(DATADIR)/dbus-1/system.d
else
DBUSPOLICYDIR ?= $(SYSCONFDIR)/dbus-1/system.d
endif

CC           ?= cc
B            := build
PKGS         := dbus-1 devmapper blkid
# Werror in CI and checks; WERROR=0 to relax while hacking.
WERROR       ?= 1
# FAULT_INJECTION=1: the named fault points of common/fault.h (test builds only;
# the VM tests build one into $(B)/fault).
FAULT_INJECTION ?= 0

PKG_CFLAGS   := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
DBUS_LIBS    := $(shell pkg-config --libs dbus-1 2>/dev/null)
DM_LIBS      := $(shell pkg-config --libs devmapper blkid 2>/dev/null)

CFLAGS       ?= -O2 -g
CFLAGS       += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter \
                -Wmissing-prototypes -Wstrict-prototypes -fno-strict-aliasing \
                $(if $(filter 1,$(WERROR)),-Werror) \
                -Iinclude -I. $(PKG_CFLAGS) -MMD -MP \
                -DVSS_VERSION='"$(VERSION)"' \
                -DVSS_PROVIDER_DIR='"$(PROVIDERDIR)"' \
                -DVSS_CONFIG_FILE='"$(SYSCONFDIR)/vss/vssd.conf"' \
                -DVSS_SYSCONF_DIR='"$(SYSCONFDIR)"' \
                $(if $(filter 1,$(FAULT_INJECTION)),-DVSS_FAULT_INJECTION)
PIC          := -fPIC -fvisibility=hidden

# Quiet by default: "CC file"; V=1 shows whole commands.
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

obj = $(patsubst %.c,$(B)/%.o,$(1))
pic = $(patsubst %.c,$(B)/pic/%.o,$(1))

# --- sources, by layer (each folder includes only those below it) -----------
COMMON_SRC   := $(wildcard common/*.c)
UTIL_SRC     := $(wildcard daemon/util/*.c)
CORE_SRC     := $(wildcard daemon/core/*.c)
DBUS_SRC     := $(wildcard daemon/dbus/*.c)
DAEMON_SRC   := $(wildcard daemon/*.c)
LIB_SRC      := $(wildcard lib/*.c)
DMSNAP_SRC   := $(wildcard providers/dm-snapshot/*.c)
CLI_SRC      := $(wildcard cli/*.c)

VSSD         := $(B)/vssd
VSSCTL       := $(B)/vssctl
LIBVSS_SO    := $(B)/libvss.so.1
FAKE_PROV    := $(B)/tests/providers/fake.so
FAKE_SRC     := $(wildcard tests/providers/fake/*.c)
BAD_PROVS    := $(B)/tests/providers/wrong-abi.so $(B)/tests/providers/no-symbol.so
# A second fake provider, "fake2", beside a link to the first: a directory of its
# own, so that only the tests that want two providers load it.
FAKE2_PROV   := $(B)/tests/providers/pair/fake2.so
TEST_WRITER  := $(B)/tests/bus/test-writer
DMSNAP       := $(B)/providers/dm-snapshot.so

# Example programs the manual pages quote (tests/docs/check-docs compares them).
EXAMPLES     := $(B)/examples/requester

# make demo's sample writer (a writer on libvss) and the application it speaks for.
SAMPLE_WRITER := $(B)/examples/sample-writer
DEMO_APP     := $(B)/tools/demo-app

# The writers the project ships (writers/<name>/): each "writers:" block below
# adds its program; "all: $(WRITERS)" after the blocks builds them.
WRITERS      :=

all: $(VSSD) $(VSSCTL) $(LIBVSS_SO) $(DMSNAP) $(FAKE_PROV) $(FAKE2_PROV) $(BAD_PROVS) $(EXAMPLES) $(SAMPLE_WRITER) $(DEMO_APP)

# Paths compiled into the programs (-D above): a build for another PREFIX,
# SYSCONFDIR or PROVIDERDIR must not reuse objects made with the old ones.
# The stamp changes only when they do, so an unchanged build stays up to date.
PATHS_STAMP  := $(B)/paths.stamp
COMPILED_PATHS := $(VERSION) $(PROVIDERDIR) $(SYSCONFDIR) fault=$(FAULT_INJECTION)

$(PATHS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(COMPILED_PATHS)' | cmp -s - $@ || echo '$(COMPILED_PATHS)' > $@

FORCE:

$(B)/%.o: %.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(B)/pic/%.o: %.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(PIC) -c $< -o $@

# --- vssd ---------------------------------------------------------------------
$(VSSD): $(call obj,$(DAEMON_SRC) $(DBUS_SRC) $(CORE_SRC) $(UTIL_SRC) $(COMMON_SRC))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(DBUS_LIBS) -ldl -lpthread

# --- libvss -------------------------------------------------------------------
$(LIBVSS_SO): $(call pic,$(LIB_SRC) $(COMMON_SRC)) lib/libvss.sym
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libvss.so.1 -Wl,--version-script=lib/libvss.sym \
		-o $@ $(filter %.o,$^) $(DBUS_LIBS)
	$(Q)ln -sf libvss.so.1 $(B)/libvss.so

# --- vssctl (links libvss dynamically, as any client would) --------------------
$(VSSCTL): $(call obj,$(CLI_SRC)) $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss -Wl,-rpath,'$$ORIGIN'

# --- examples: built like any program on libvss, so what libvss(3) shows compiles
$(EXAMPLES): $(B)/examples/%: $(B)/examples/%.o $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss -Wl,-rpath,'$$ORIGIN/..'

# --- make demo: the sample writer, linked like tests/bus/test-writer; the application
$(SAMPLE_WRITER): $(B)/examples/sample-writer.o $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss -Wl,-rpath,'$$ORIGIN/..'

$(DEMO_APP): $(B)/tools/demo-app.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# --- provider plugins -----------------------------------------------------------
$(DMSNAP): $(call pic,$(DMSNAP_SRC))
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,--no-undefined -o $@ $^ $(DM_LIBS) -lpthread

# The providers' shared modules (providers/common: journals, the hold window...),
# and the fault points the hold window has in a fault build.
PROVCOMMON_SRC := $(wildcard providers/common/*.c) common/fault.c
$(DMSNAP): $(call pic,$(PROVCOMMON_SRC))

# dm-thin: thin pools, volumes and snapshots (providers/dm-thin), on the same shared modules.
DMTHIN_SRC   := $(wildcard providers/dm-thin/*.c)
DMTHIN       := $(B)/providers/dm-thin.so
all: $(DMTHIN)
$(DMTHIN): $(call pic,$(DMTHIN_SRC) $(PROVCOMMON_SRC))
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,--no-undefined -o $@ $^ $(DM_LIBS) -lpthread

# lvm: LVM logical volumes through the LVM tools (providers/lvm), on the same shared modules.
LVM_SRC      := $(wildcard providers/lvm/*.c)
LVMPROV      := $(B)/providers/lvm.so
all: $(LVMPROV)
$(LVMPROV): $(call pic,$(LVM_SRC) $(PROVCOMMON_SRC))
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,--no-undefined -o $@ $^ $(DM_LIBS) -lpthread

$(B)/tests/providers/%.so: $(call pic,tests/providers/%.c)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $^ -lpthread

# The fake provider (tests/providers/fake/), and the same code as "fake2".
$(FAKE_PROV): $(call pic,$(FAKE_SRC))
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $^ -lpthread

FAKE2_OBJS   := $(patsubst tests/providers/fake/%.c,$(B)/pic/tests/providers/fake2/%.o,$(FAKE_SRC))
$(B)/pic/tests/providers/fake2/%.o: tests/providers/fake/%.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(PIC) -DFAKE_NAME='"fake2"' \
		-DFAKE_ID='"0c3f6b4e-5a1d-4f7e-9b2a-8d6e4c1f2a93"' -c $< -o $@

$(FAKE2_PROV): $(FAKE2_OBJS) $(FAKE_PROV)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $(FAKE2_OBJS) -lpthread
	$(Q)ln -sf ../fake.so $(@D)/fake.so

# --- writers: postgresql ---------------------------------------------------------
PGW_SRC      := $(wildcard writers/postgresql/*.c) writers/common/log.c
PGW          := $(B)/writers/vss-writer-postgresql
WRITERS      += $(PGW)
$(call obj,$(PGW_SRC)): CFLAGS += $(shell pkg-config --cflags libpq 2>/dev/null)

$(PGW): $(call obj,$(PGW_SRC)) $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss \
		$(shell pkg-config --libs libpq 2>/dev/null) -Wl,-rpath,'$$ORIGIN/..'

# --- writers: hooks ---------------------------------------------------------------
HOOKSW_SRC   := $(wildcard writers/hooks/*.c) writers/common/log.c
HOOKSW       := $(B)/writers/vss-writer-hooks
WRITERS      += $(HOOKSW)

$(HOOKSW): $(call obj,$(HOOKSW_SRC)) $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss -Wl,-rpath,'$$ORIGIN/..'

# --- writers: mariadb -------------------------------------------------------------
MDBW_SRC     := $(wildcard writers/mariadb/*.c) writers/common/log.c
MDBW         := $(B)/writers/vss-writer-mariadb
WRITERS      += $(MDBW)
$(call obj,$(MDBW_SRC)): CFLAGS += $(shell pkg-config --cflags libmariadb 2>/dev/null)

$(MDBW): $(call obj,$(MDBW_SRC)) $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss \
		$(shell pkg-config --libs libmariadb 2>/dev/null) -Wl,-rpath,'$$ORIGIN/..'

# --- unit tests: each links only the code under test ----------------------------
UNIT_TESTS   := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(wildcard tests/unit/check_*.c))
check_error_OBJS := common/error.c
check_fake_provider_OBJS := $(FAKE_SRC)
check_cli_output_OBJS := cli/output.c
check_loop_OBJS := daemon/util/loop.c daemon/util/log.c
check_config_OBJS := daemon/util/config.c
check_settings_OBJS := daemon/settings.c daemon/util/config.c
check_introspect_OBJS := daemon/dbus/introspect.c
check_dispatch_OBJS := daemon/dbus/bus.c daemon/dbus/object.c daemon/dbus/introspect.c \
                       daemon/dbus/caller.c daemon/dbus/args.c \
                       daemon/util/loop.c daemon/util/log.c common/error.c
check_access_OBJS := daemon/access.c daemon/util/log.c
CORE_TEST_OBJS := $(CORE_SRC) common/error.c $(FAKE_SRC) tests/unit/core-env.c
check_core_OBJS := $(CORE_TEST_OBJS)
check_core_set_OBJS := $(CORE_TEST_OBJS)
check_core_abort_OBJS := $(CORE_TEST_OBJS)
check_core_writer_OBJS := $(CORE_TEST_OBJS)
check_core_session_OBJS := $(CORE_TEST_OBJS)
check_core_components_OBJS := $(CORE_TEST_OBJS)
check_core_window_OBJS := $(CORE_TEST_OBJS)
check_core_finish_OBJS := $(CORE_TEST_OBJS)
check_provider_runner_OBJS := daemon/provider-runner.c daemon/util/loop.c daemon/util/log.c
check_volume_OBJS := daemon/volume.c
check_store_OBJS := providers/common/store.c providers/common/util.c providers/common/error.c
check_dmsnap_size_OBJS := providers/common/size.c
check_lvm_report_OBJS := providers/lvm/json.c providers/lvm/report.c
check_expose_OBJS := providers/common/expose.c providers/common/util.c providers/common/error.c
check_journal_OBJS := providers/common/journal.c providers/dm-snapshot/intent.c \
                      providers/common/dm.c providers/common/util.c providers/common/error.c
check_thin_status_OBJS := providers/dm-thin/status.c providers/dm-thin/state.c \
                          providers/common/util.c providers/common/error.c
check_plugins_OBJS := daemon/plugins.c daemon/settings.c daemon/util/config.c daemon/util/log.c \
                      common/error.c

$(B)/tests/unit/check_%: $(B)/tests/unit/check_%.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(DBUS_LIBS) $(DM_LIBS) -ldl -lpthread

$(B)/tests/unit/check_%.o: tests/unit/check_%.c $(PATHS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

# Unit tests depend on their objects being built.
.SECONDEXPANSION:
$(UNIT_TESTS): $$(call obj,$$(check_$$(patsubst check_%,%,$$(@F))_OBJS))

# --- bus tests: the real vssd on a private dbus-daemon ------------------------------
BUS_TESTS    := $(patsubst tests/bus/%.c,$(B)/tests/bus/%,$(wildcard tests/bus/check_bus_*.c))

$(B)/tests/bus/check_bus_%: $(B)/tests/bus/check_bus_%.o $(B)/tests/bus/harness.o \
		$(TEST_WRITER)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(CHECK_LIBS) $(DBUS_LIBS)

# A writer process on libvss whose behaviour each bus test chooses.
$(TEST_WRITER): $(B)/tests/bus/test-writer.o $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss -Wl,-rpath,'$$ORIGIN/../..'

# --- VM tests: Check programs run inside tests/vm/run against a real dm -----------
VM_TESTS     := $(patsubst tests/vm/%.c,$(B)/tests/vm/%,$(wildcard tests/vm/check_*.c))
check_dmlib_OBJS := providers/common/dm.c providers/common/util.c providers/common/error.c
# The soak test is a requester and two writers on libvss, linked in.
check_soak_OBJS := $(LIB_SRC) $(COMMON_SRC)

$(B)/tests/vm/check_%: $(B)/tests/vm/check_%.o $(B)/tests/vm/vmtest.o $(B)/tests/bus/harness.o \
		$(TEST_WRITER)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(CHECK_LIBS) $(DBUS_LIBS) $(DM_LIBS) -lpthread

$(B)/tests/vm/check_%.o: tests/vm/check_%.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

$(VM_TESTS): $$(call pic,$$(check_$$(patsubst check_%,%,$$(@F))_OBJS))

# vssd and the dm-snapshot provider with fault points (common/fault.h), for
# the crash-safety VM tests: a build of their own, so that no installed vssd has them.
FAULT_B      := $(B)/fault

fault-build:
	@$(MAKE) --no-print-directory B=$(FAULT_B) FAULT_INJECTION=1 \
		$(FAULT_B)/vssd $(FAULT_B)/providers/dm-snapshot.so

# --- sanitizers: vssd under ASan/UBSan, and a libFuzzer target over its handlers --
# asan-build: vssd and the fake provider with AddressSanitizer (LeakSanitizer
# included) and UBSan, for tests/bus/check_bus_fuzz.c (VSS_TEST_DAEMON_BUILD).
# make fuzz: tests/fuzz/fuzz_dispatch.c with clang's libFuzzer, FUZZ_RUNS inputs.
ASAN_B       := $(B)/asan
FUZZ_B       := $(B)/fuzz
FUZZ_RUNS    ?= 2000
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
ifeq ($(ASAN),1)
CFLAGS       += $(SAN_FLAGS)
LDFLAGS      += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)
# clang (not gcc) counts "{ NULL }", the tables' terminators, as missing initializers.
CFLAGS       += $(SAN_FLAGS) -fsanitize=fuzzer-no-link -Wno-missing-field-initializers
endif
# The daemon without main.c (the target plays main()), the fake provider linked in.
FUZZ_SRC     := $(filter-out daemon/main.c,$(DAEMON_SRC)) $(DBUS_SRC) $(CORE_SRC) \
                $(UTIL_SRC) $(COMMON_SRC) $(FAKE_SRC) tests/fuzz/fuzz_dispatch.c

asan-build:
	@$(MAKE) --no-print-directory B=$(ASAN_B) ASAN=1 \
		$(ASAN_B)/vssd $(ASAN_B)/tests/providers/fake.so

$(B)/fuzz_dispatch: $(call obj,$(FUZZ_SRC))
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(DBUS_LIBS) -ldl -lpthread

fuzz:
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang FUZZ=1 $(FUZZ_B)/fuzz_dispatch
	@rm -rf $(FUZZ_B)/seeds && VSS_FUZZ_WRITE_SEEDS=$(FUZZ_B)/seeds $(FUZZ_B)/fuzz_dispatch
	@mkdir -p $(FUZZ_B)/corpus
	$(FUZZ_B)/fuzz_dispatch -runs=$(FUZZ_RUNS) -max_len=4096 -timeout=20 -close_fd_mask=2 \
		-print_final_stats=1 -artifact_prefix=$(FUZZ_B)/ \
		$(FUZZ_B)/corpus $(FUZZ_B)/seeds tests/fuzz/corpus

.PHONY: asan-build fuzz

# --- benchmarks: figures beside a baseline measured in the same run -------------
BENCHES      := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))

$(B)/bench/%: $(B)/bench/%.o $(LIBVSS_SO)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(B) -lvss $(DBUS_LIBS) -lpthread \
		-Wl,-rpath,'$$ORIGIN/..'

# Every writer block (above) added its program to WRITERS.
all: $(WRITERS)

# Keep test objects: they are not throwaway intermediates.
.SECONDARY:

# --- targets for people -------------------------------------------------------
.PHONY: FORCE all deps check check-unit check-bus check-vm soak bench demo install clean fault-build

deps:
	@tools/install-deps

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(BUS_TESTS) $(VM_TESTS) fault-build asan-build
	@tests/check-all $(UNIT_TESTS) $(BUS_TESTS)

check-unit: all $(UNIT_TESTS)
	@tests/run-all $(UNIT_TESTS)

check-bus: all $(BUS_TESTS) asan-build
	@tests/run-all $(BUS_TESTS)

check-vm: all $(VM_TESTS) fault-build
	@tests/run-all tests/vm/check-smoke tests/vm/check-dm

# The soak test alone and long (make check runs 100 cycles of it).
SOAK_CYCLES  ?= 1000
soak: all $(B)/tests/vm/check_soak
	@VSS_SOAK_CYCLES=$(SOAK_CYCLES) tests/vm/check-dm $(B)/tests/vm/check_soak

bench: all $(BENCHES)
	@for b in $(BENCHES); do VSS_TOP=$(CURDIR) VSS_BUILD=$(CURDIR)/$(B) $$b || exit 1; done
	@VSS_BUILD=$(CURDIR)/$(B) bench/hold
	@VSS_BUILD=$(CURDIR)/$(B) bench/cow

# Real device-mapper snapshots: here, or in the test VM when this kernel has no dm.
demo: deps
	@$(MAKE) -s --no-print-directory all
	@tools/demo

install: all
	@DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SBINDIR="$(SBINDIR)" BINDIR="$(BINDIR)" \
	LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" MANDIR="$(MANDIR)" \
	SYSCONFDIR="$(SYSCONFDIR)" PROVIDERDIR="$(PROVIDERDIR)" UNITDIR="$(UNITDIR)" \
	TMPFILESDIR="$(TMPFILESDIR)" SYSUSERSDIR="$(SYSUSERSDIR)" COMPLETIONDIR="$(COMPLETIONDIR)" \
	DBUSSERVICEDIR="$(DBUSSERVICEDIR)" DBUSPOLICYDIR="$(DBUSPOLICYDIR)" \
	VERSION="$(VERSION)" BUILD="$(B)" tools/install-files

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
