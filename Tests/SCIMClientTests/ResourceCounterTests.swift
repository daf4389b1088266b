import XCTest

@testable import SCIMClient

/// Counting a page's Resources on its bytes, before it is parsed: a page far larger than asked is refused.
final class ResourceCounterTests: XCTestCase {
    func count(_ text: String) -> Int? { ResourceCounter.count(Array(text.utf8)) }

    func testCountsTheTopLevelResourcesOnly() {
        XCTAssertEqual(count(#"{"totalResults":2,"Resources":[{"id":"a"},{"id":"b,]"}]}"#), 2)
        XCTAssertEqual(count(#"{"Resources":[]}"#), 0)
        XCTAssertEqual(count(#"{"resources" : [ 1 , [2,3] , "x\"]" ]}"#), 3, "names ignore case; strings hide brackets")
        XCTAssertEqual(
            count(#"{"schemas":["a","b"],"x":{"Resources":[1,2,3,4]},"Resources":[{"Resources":[1,2]}]}"#), 1,
            "a nested Resources is not the page's")
        XCTAssertNil(count(#"{"totalResults":0}"#))
        XCTAssertNil(count(#"{"Resources":[1,2"#), "cut short: the parser reports it")
        XCTAssertNil(count("[[[["))
    }

    func testTheLimitToleratesWholeSmallListingsButNotAMillion() {
        XCTAssertEqual(SCIMClient.maxResourcesPerPage(asked: 100), 10_000)
        XCTAssertEqual(SCIMClient.maxResourcesPerPage(asked: 5000), 50_000)
        XCTAssertLessThan(SCIMClient.maxResourcesPerPage(asked: 100), 1_000_000)
    }
}
