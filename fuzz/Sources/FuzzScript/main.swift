import FuzzDriver

runFuzzer { data, size in fuzzScript(data, size) }
