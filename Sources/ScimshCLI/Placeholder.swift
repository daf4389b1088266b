public enum ScimshMain { public static func main() {} }
