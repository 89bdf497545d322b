# imgtool: one non-recursive Makefile.
#   make              build build/imgtool
#   make check        unit + integration tests; last line "N passed, N failed"
#   make check SAN=1  the same with ASan+UBSan (objects in build-san/)
#   make install      install to $(DESTDIR)$(PREFIX)/bin and share/man/man1
#   make fmt          clang-format the sources
#   make fmt-check    fail if a source file differs from clang-format's output
#   make clean

CC ?= cc
PREFIX ?= /usr/local
PKGS := libcurl jansson libseccomp libmnl libnftables libzstd libcrypto libisal libsodium fuse3
# Only the tests link these: libarchive as an independent tar reader, zlib
# to make gzip test data (the product inflates with ISA-L).
TEST_PKGS := libarchive zlib

ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT := -O2 -g
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl, libnftables, libcrypto and libfuse3 are not linked: registry/curl_lazy.c,
# network/nft_lazy.c, lib/crypto_lazy.c and service/fuse_lazy.c load them on first use
# (lib/dynlib.h says why); their headers still come from PKG_CFLAGS.
LAZY_PKGS := libcurl libnftables libcrypto libsodium fuse3
PKG_LIBS := $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null)
TEST_LIBS := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

CFLAGS ?= $(OPT)
ALL_CFLAGS := -std=gnu17 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wformat=2 -Wvla -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-D_GNU_SOURCE -I. $(PKG_CFLAGS) $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(SANFLAGS) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lbz2 -llzma -lpthread -lm

# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

LIB_SRC := $(sort $(wildcard lib/*.c layers/*.c registry/*.c trust/*.c runtime/*.c network/*.c service/*.c builder/*.c))
CMD_SRC := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
# Small programs the tests and benchmarks drive (not part of the product).
HELPER_SRC := $(sort $(wildcard tests/helpers/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
HELPER_BIN := $(HELPER_SRC:%.c=$(BUILD)/%)

all: $(BUILD)/imgtool

$(BUILD)/libimgtool.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BUILD)/imgtool: $(CMD_OBJ) $(BUILD)/libimgtool.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libimgtool.a $(LIBS)

# The version facts cmd/version.c prints (scripts/version-h), rewritten
# only when they change, so that an unchanged tree does not relink.
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@scripts/version-h $(PKGS) > $@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }
$(BUILD)/cmd/version.o: $(BUILD)/version.h
$(BUILD)/cmd/version.o: ALL_CFLAGS += -I$(BUILD)
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libimgtool.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libimgtool.a $(LIBS) $(TEST_LIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(BUILD)/libimgtool.a
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libimgtool.a $(LIBS) $(TEST_LIBS)

unit: $(UNIT_BIN) $(HELPER_BIN)

check: all unit
	@BUILD=$(BUILD) tests/run.sh

# imgtool(1) and imgtool-COMMAND(1), from the binary's own tables.
man: $(BUILD)/imgtool
	@scripts/man-pages $(BUILD)/imgtool $(BUILD)/man

install: all man
	install -D -m 0755 $(BUILD)/imgtool $(DESTDIR)$(PREFIX)/bin/imgtool
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

FMT_SRC = $(LIB_SRC) $(CMD_SRC) $(UNIT_SRC) $(HELPER_SRC) \
	$(filter-out build%,$(wildcard bench/*.c */*.h tests/*/*.h))

fmt:
	clang-format -i $(FMT_SRC)

# .ci/run runs this: the declared style (.clang-format) is the one followed.
fmt-check:
	clang-format --dry-run -Werror $(FMT_SRC)

clean:
	rm -rf build build-san

.PHONY: all unit check man install fmt fmt-check clean
-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)
