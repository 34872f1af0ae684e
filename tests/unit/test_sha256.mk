UNIT_TESTS += test_sha256
test_sha256_SRCS := tests/unit/test_sha256.c arch/x86/lib/sha256.c arch/x86/lib/hmac_sha256.c
