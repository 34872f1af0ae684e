UNIT_TESTS += test_mig_chan
test_mig_chan_SRCS := tests/unit/test_mig_chan.c vmm/migrate/mig_chan.c arch/x86/lib/sha256.c \
                      arch/x86/lib/hmac_sha256.c
