import FuzzDriver

runFuzzer { data, size in fuzzRecords(data, size) }
