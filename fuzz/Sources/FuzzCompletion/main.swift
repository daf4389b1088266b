import FuzzDriver

runFuzzer { data, size in fuzzCompletion(data, size) }
