import FuzzDriver

runFuzzer { data, size in fuzzFilter(data, size) }
