# snap — build, test and demo entry points (see README.md).
SHELL := /bin/bash

.PHONY: deps build release test fuzz demo install clean

deps:
	@scripts/install-deps.sh

build: deps
	swift build

# The Swift runtime and Foundation are linked in (--static-swift-stdlib): every command's
# resident floor is 7 MiB lower than with a dozen shared Swift libraries (docs/benchmarks/analysis.md).
# No $ORIGIN run path: the binary loads its few C libraries (libcrypto, libzstd) from the
# system only, never from whatever folder it was copied into.
release: deps
	swift build -c release --product snap --static-swift-stdlib --disable-local-rpath

# Unit tests run in a debug build; the end-to-end tests drive the optimised binary.
# Storage tests talk to real servers (radosgw, sshd, rclone) started on 127.0.0.1.
test: release
	swift build --build-tests
	SNAP_BINARY=$(CURDIR)/.build/release/snap scripts/with-test-servers.sh swift test
	scripts/fuzz.sh --quick

# Every decoder of untrusted bytes under libFuzzer, 10 minutes each (docs/fuzzing.md).
fuzz:
	scripts/fuzz.sh

# Installs the binary, one man page per command and the bash, zsh and fish completions,
# all generated from the built binary (`snap generate`).
PREFIX ?= /usr/local
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 .build/release/snap $(DESTDIR)$(PREFIX)/bin/snap
	.build/release/snap generate --man $(DESTDIR)$(PREFIX)/share/man/man1 \
		--bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/snap \
		--zsh-completion $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_snap \
		--fish-completion $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/snap.fish

demo: release
	scripts/demo.sh

clean:
	rm -rf .build
