# Sluice build. Two entry points matter to a newcomer:
#   make run   install missing Debian packages, build, start the daemon on the embedded config
#   make test  install what tests need, build with sanitizers, run unit + integration tests
# Everything else (bench, check, clean) is listed in the README.

MODE      ?= release
# gcc and clang builds live apart, so switching compilers never mixes objects
BUILD     := build/$(MODE)$(if $(findstring clang,$(notdir $(CC))),-clang)
PKGS      := libevent libevent_pthreads jansson libcurl zlib libcrypto hiredis rdkafka libmosquitto
CC        ?= cc

CPPFLAGS  += -I. -I$(BUILD)/gen -D_GNU_SOURCE
CFLAGS    += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wno-missing-field-initializers -g -pthread
ifeq ($(MODE),asan)
CFLAGS    += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=address,undefined
else
CFLAGS    += -O2
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

LIB_SRCS   := $(sort $(wildcard core/*.c config/*.c dispatcher/*.c executor/*.c connectors/*.c \
                connectors/*/*.c daemon/*.c))
AGENT_SRCS := $(sort $(wildcard executor/agent/*.c))
CLI_SRCS   := $(sort $(wildcard cli/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
HELPER_SRCS:= $(sort $(wildcard tests/lib/*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))

LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/default_config.o
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS   := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_BINS:= $(HELPER_SRCS:tests/lib/%.c=$(BUILD)/tests/%)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all run test bench bench-core bench-containers bench-dispatcher bench-streams check clean \
        deps-run deps-test \
        docker-image
all: $(BUILD)/sluice $(BUILD)/sluice-init

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# The default config is compiled into the binary: `sluice run` with no -c uses it.
$(BUILD)/gen/default_config.c: config/sluice.json tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh sl_default_config $< > $@
$(BUILD)/obj/gen/default_config.o: $(BUILD)/gen/default_config.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libsluice.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sluice: $(CLI_OBJS) $(BUILD)/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD)/sluice-init: $(AGENT_OBJS) $(BUILD)/libsluice.a
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $< $(BUILD)/libsluice.a $(LDFLAGS) $(PKG_LIBS) -lcmocka -o $@

$(BUILD)/tests/%: tests/lib/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $< $(BUILD)/libsluice.a $(LDFLAGS) $(PKG_LIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $< $(BUILD)/libsluice.a $(LDFLAGS) $(PKG_LIBS) -o $@

deps-run:
	@sh tools/deps.sh run
deps-test:
	@sh tools/deps.sh test

run: deps-run
	@$(MAKE) --no-print-directory -j2 MODE=release all
	@exec $(BUILD)/sluice run

# Tests run on the gcc build under ASan+UBSan; the optimised gcc and clang builds of the same tree
# must be warning-free too (-O2 finds warnings -O1 does not).
test: deps-test
	@$(MAKE) --no-print-directory -j2 MODE=asan all tests
	@$(MAKE) --no-print-directory -j2 MODE=release all tests $(BENCH_BINS)
	@$(MAKE) --no-print-directory -j2 CC=clang MODE=release all tests $(BENCH_BINS)
	@sh tests/run.sh build/asan

.PHONY: tests
tests: $(BUILD)/sluice $(BUILD)/sluice-init $(UNIT_BINS) $(HELPER_BINS)

bench: bench-core bench-containers bench-dispatcher bench-streams
bench-core: deps-test
	@$(MAKE) --no-print-directory MODE=release all tests $(BENCH_BINS)
	@sh bench/core.sh build/release
bench-containers: deps-test
	@$(MAKE) --no-print-directory MODE=release all $(BENCH_BINS)
	@sh bench/containers.sh build/release
bench-dispatcher: deps-test
	@$(MAKE) --no-print-directory MODE=release all $(BENCH_BINS)
	@sh bench/dispatcher.sh build/release
bench-streams: deps-test
	@$(MAKE) --no-print-directory MODE=release all tests $(BENCH_BINS)
	@sh bench/streams.sh build/release

# The base image of docker sandboxes (docker/Containerfile), built with podman.
docker-image:
	@sh tools/docker-image.sh

# Fails when the committed schema or configuration reference drifted from the property tables.
check: all
	@sh tools/check-generated.sh $(BUILD)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
