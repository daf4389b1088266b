import SCIMScript
import XCTest

/// Secrecy of typed lines is judged on the parsed statements (history, `record`).
final class SecretStatementsTests: XCTestCase {
    func testSecretSetsAreFoundWhereverTheyAreInTheText() {
        for line in [
            "set token = \"abc\"", "set token \\\n= \"abc\"", "set \\\ntoken = \"abc\"", "echo $token; set token = x",
            "find | count\nset api_token=x", "SET Token = x", "set my_password = x", "set token = \"unterminated",
            "set proxy = \"http://corp:pw@proxy:3128\"", "set proxy = \"http://corp:pw@proxy",
        ] {
            XCTAssertTrue(SecretStatements.setsSecret(line), line.debugDescription)
        }
        for line in [
            "echo $token", "set copy_of = $host", "find userName eq \"token\"", "help", "",
            "set proxy = \"http://proxy:3128\"",
        ] {
            XCTAssertFalse(SecretStatements.setsSecret(line), line.debugDescription)
        }
    }

    func testRecordableWritesEachStatementAndSecretsAsEnvironmentReferences() {
        XCTAssertEqual(
            SecretStatements.recordable("echo $token; set token = \"abc\""),
            "echo $token\nset token = $env.SCIMSH_TOKEN\n")
        XCTAssertEqual(SecretStatements.recordable("set token \\\n= \"abc\""), "set token = $env.SCIMSH_TOKEN\n")
        XCTAssertEqual(
            SecretStatements.recordable("set \\\napi_token = \"abc\""), "set api_token = $env.SCIMSH_API_TOKEN\n")
        XCTAssertEqual(SecretStatements.recordable("find |\ncount"), "find |\ncount\n")
        XCTAssertEqual(
            SecretStatements.recordable("set proxy = \"http://u:pw@p:3128\""), "set proxy = $env.HTTPS_PROXY\n")
        XCTAssertNil(SecretStatements.recordable("set token = \"abc"))
    }
}
