import FuzzDriver

runFuzzer { data, size in fuzzJSON(data, size) }
