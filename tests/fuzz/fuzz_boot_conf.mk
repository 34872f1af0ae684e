FUZZERS += fuzz_boot_conf
fuzz_boot_conf_SRCS := tests/fuzz/fuzz_boot_conf.c boot/efi/boot_conf.c $(CONFIG_SRCS)
fuzz_boot_conf_SEEDS := $(BUILD)/fuzz/pgvisor.conf
fuzz_boot_conf_DICT := tests/fuzz/boot_conf.dict

# A pgvisor.conf as scripts/mkesp writes it for the demo.
$(BUILD)/fuzz/pgvisor.conf: scripts/mkesp
	@mkdir -p $(dir $@)
	$(PYTHON) -c 'import runpy; boot_conf = runpy.run_path("scripts/mkesp")["boot_conf"]; \
	  print(boot_conf("$(DEMO)".split(), "no-preemption-timer"), end="")' > $@
