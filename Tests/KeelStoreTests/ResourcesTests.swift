import Foundation
import KeelTestSupport
import Synchronization
import KeelCore
import KeelStore
import PGClient
import Testing

/// The resource store against the real PostgreSQL, every test once per content backend.
@Suite struct ResourcesTests {
    @Test(arguments: ResourceBackendUnderTest.allCases)
    func roundTripsAtTheEdgesOfTheInlineLimitAndOfChunks(_ backend: ResourceBackendUnderTest) async throws {
        try await withResourceStore(backend) { store, pool, root in
            let sizes = [0, 1, 65_535, 65_536, 65_537, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 7]
            for (index, size) in sizes.enumerated() {
                let seed = UInt64(index + 1)
                let expected = GeneratedBytes.bytes(size: size, seed: seed)
                let record = try await store.put(
                    GeneratedBytes(size: size, seed: seed),
                    description: ResourceDescription(name: "blob-\(size).bin"))
                #expect(record.reference.sha256 == ContentDigest.sha256Hex(of: expected), "size \(size)")
                #expect(record.size == Int64(size))
                #expect(record.backend.rawValue == backend.rawValue)
                let back = try await store.readAll(record.reference)
                #expect(back.count == size)
                #expect(back == expected, "size \(size)")
                let shown = try await store.show(record.reference)
                #expect(shown.name == "blob-\(size).bin")
                #expect(shown.mediaType == "application/octet-stream")
            }
            let counts = try await StoreCounts.read(pool, root: root)
            #expect(counts.contents == sizes.count)
            #expect(counts.uploads == 0 && counts.stagingFiles == 0, "\(counts)")
            if backend == .directory { #expect(counts.contentFiles == sizes.count) }
        }
    }

    @Test(arguments: ResourceBackendUnderTest.allCases)
    func concurrentUploadsOfTheSameContentStoreItOnce(_ backend: ResourceBackendUnderTest) async throws {
        try await withResourceStore(backend) { store, pool, root in
            let size = 2 * (1 << 20) + 123
            let records = try await withThrowingTaskGroup(of: ResourceRecord.self) { group in
                for uploader in 0..<6 {
                    group.addTask {
                        try await store.put(
                            GeneratedBytes(size: size, seed: 42, maximumChunk: 100_000 + uploader * 7_000),
                            description: ResourceDescription(name: "copy-\(uploader)"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(records.map(\.reference)).count == 1)
            let counts = try await StoreCounts.read(pool, root: root)
            #expect(counts.contents == 1, "\(counts)")
            #expect(counts.resources == 6)
            #expect(counts.uploads == 0 && counts.stagingFiles == 0, "\(counts)")
            #expect(counts.chunkBlobs == (backend == .postgres ? 1 : 0), "\(counts)")
            if backend == .directory { #expect(counts.contentFiles == 1) }
            let reference = try #require(records.first?.reference)
            #expect(try await store.names(of: reference).count == 6)
            #expect(try await store.readAll(reference) == GeneratedBytes.bytes(size: size, seed: 42))
        }
    }

    @Test(arguments: ResourceBackendUnderTest.allCases)
    func aCancelledUploadLeavesNothing(_ backend: ResourceBackendUnderTest) async throws {
        try await withResourceStore(backend) { store, pool, root in
            let produced = ProducedCounter()
            let upload = Task {
                try await store.put(
                    EndlessBytes { produced.set($0) }, description: ResourceDescription(name: "endless"))
            }
            // Generous: only a stalled upload takes long, and a loaded CI machine must not look like one.
            let deadline = ContinuousClock.now + .seconds(180)
            while produced.value < 12 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(produced.value >= 12, "the upload never got going")
            upload.cancel()
            let result = await upload.result
            #expect(throws: (any Error).self) { try result.get() }
            let counts = try await StoreCounts.read(pool, root: root)
            #expect(
                counts
                    == StoreCounts(
                        contents: 0, resources: 0, uploads: 0, chunkBlobs: 0, stagingFiles: 0, contentFiles: 0
                    ),
                "\(counts)")
        }
    }

    @Test(arguments: ResourceBackendUnderTest.allCases)
    func aHashMismatchIsRefusedAndLeavesNothing(_ backend: ResourceBackendUnderTest) async throws {
        try await withResourceStore(backend) { store, pool, root in
            let bytes = GeneratedBytes.bytes(size: 1_500_000, seed: 7)
            let wrong = ContentDigest.sha256Hex(of: Array("something else".utf8))
            await #expect(
                throws: ResourceStoreError.digestMismatch(
                    expected: wrong, actual: ContentDigest.sha256Hex(of: bytes))
            ) {
                try await store.put(
                    ChunkList(chunks: [Array(bytes[..<700_000]), Array(bytes[700_000...])]),
                    description: ResourceDescription(), expectedSHA256: wrong)
            }
            let counts = try await StoreCounts.read(pool, root: root)
            #expect(
                counts
                    == StoreCounts(
                        contents: 0, resources: 0, uploads: 0, chunkBlobs: 0, stagingFiles: 0, contentFiles: 0
                    ),
                "\(counts)")
            let right = try await store.put(
                ChunkList(chunks: [bytes]), description: ResourceDescription(),
                expectedSHA256: ContentDigest.sha256Hex(of: bytes))
            #expect(right.size == 1_500_000)
            let unknown = try #require(ResourceReference(sha256: wrong))
            await #expect(throws: ResourceStoreError.unknownReference(unknown)) {
                try await store.open(unknown)
            }
        }
    }

    @Test(arguments: ResourceBackendUnderTest.allCases)
    func collectionKeepsWhatLiveRunsAndKeepRetentionReference(_ backend: ResourceBackendUnderTest)
        async throws
    {
        try await withResourceStore(backend) { store, pool, root in
            let oldRun = RunID(UUID())
            let liveRun = RunID(UUID())
            try await insertRun(oldRun, finishedDaysAgo: 40, on: pool)
            try await insertRun(liveRun, finishedDaysAgo: nil, on: pool)
            func put(_ text: String, run: RunID?, retention: ResourceRetention = .standard) async throws
                -> ResourceRecord
            {
                try await store.put(
                    bytes: Array(text.utf8),
                    description: ResourceDescription(
                        name: text, mediaType: "text/plain",
                        producer: run.map { ResourceProducer(runID: $0, step: "s", attempt: 1) },
                        retention: retention))
            }
            let oldOnly = try await put("old run only", run: oldRun)
            let liveOnly = try await put("live run only", run: liveRun)
            let sharedOld = try await put("shared", run: oldRun)
            _ = try await put("shared", run: liveRun)
            let kept = try await put("kept for ever", run: oldRun, retention: .keep)
            let unattached = try await put("unattached", run: nil)
            let recent = try await put("recent unattached", run: nil)
            try await pool.withConnection { connection in
                // Everything was created 40 days ago except `recent`.
                try await connection.execute(
                    "UPDATE resources SET created_at = now() - interval '40 days' WHERE name <> 'recent unattached'"
                )
            }
            let cutoff = Date().addingTimeInterval(-30 * 86_400)
            let preview = try await store.collect(finishedBefore: cutoff, dryRun: true)
            #expect(preview.resources == 3)
            #expect(preview.contents == 2)
            #expect(try await StoreCounts.read(pool, root: root).resources == 7)

            let report = try await store.collect(finishedBefore: cutoff)
            #expect(report.resources == 3)  // old-only, the old run's name of `shared`, unattached
            #expect(report.contents == 2)  // old-only and unattached; `shared` is still named by the live run
            #expect(report.bytes == Int64("old run only".utf8.count + "unattached".utf8.count))
            for gone in [oldOnly, unattached] {
                await #expect(throws: ResourceStoreError.unknownReference(gone.reference)) {
                    try await store.open(gone.reference)
                }
            }
            #expect(try await store.readAll(liveOnly.reference) == Array("live run only".utf8))
            #expect(try await store.readAll(sharedOld.reference) == Array("shared".utf8))
            #expect(try await store.readAll(kept.reference) == Array("kept for ever".utf8))
            #expect(try await store.readAll(recent.reference) == Array("recent unattached".utf8))
            #expect(try await store.list(run: liveRun).count == 2)
            #expect(try await store.list(run: oldRun).map(\.name) == ["kept for ever"])
            let counts = try await StoreCounts.read(pool, root: root)
            #expect(counts.contents == 4 && counts.resources == 4, "\(counts)")
            if backend == .directory { #expect(counts.contentFiles == 4, "\(counts)") }
            if backend == .postgres { #expect(counts.chunkBlobs == 4, "\(counts)") }
        }
    }

    @Test(arguments: ResourceBackendUnderTest.allCases)
    func collectionRacingAnUploadOfTheSameContentNeverLosesIt(_ backend: ResourceBackendUnderTest)
        async throws
    {
        try await withResourceStore(backend) { store, pool, _ in
            let cutoff = Date().addingTimeInterval(3_600)  // everything unattached is collectable
            for round in 0..<15 {
                let bytes = Array("contested content \(round % 3)".utf8)
                async let collected = store.collect(finishedBefore: cutoff)
                async let uploaded = store.put(
                    bytes: bytes, description: ResourceDescription(name: "r\(round)"))
                let (record, _) = try await (uploaded, collected)
                let names = try await store.names(of: record.reference)
                if !names.isEmpty {
                    #expect(try await store.readAll(record.reference) == bytes, "round \(round)")
                }
            }
            let dangling = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT count(*)::int8 FROM resources r WHERE NOT EXISTS (SELECT 1 FROM resource_contents c WHERE c.sha256 = r.sha256)"
                ).first?.decode((Int).self)
            }
            #expect(dangling == 0)
        }
    }

    @Test(arguments: ResourceBackendUnderTest.allCases)
    func aPlantedSecretNeverReachesAStoredLog(_ backend: ResourceBackendUnderTest) async throws {
        try await withResourceStore(backend) { store, _, _ in
            let secret = "hunter2-Sup3rS3cret-token"
            let other = "ghp_abcdefghijklmnop"
            let log = Array(
                "step started\ntoken=\(secret) and again \(secret)\(secret)\npush \(other) done\n".utf8)
            let redactor = SecretRedactor(secrets: [secret, other])
            // Split everywhere, including inside each secret.
            for split in stride(from: 1, to: log.count, by: 5) {
                let chunks = ChunkList(chunks: [Array(log[..<split]), Array(log[split...])])
                let record = try await store.put(
                    chunks, description: ResourceDescription(name: "step.log", mediaType: "text/plain"),
                    redactor: redactor)
                let stored = String(decoding: try await store.readAll(record.reference), as: UTF8.self)
                #expect(!stored.contains(secret) && !stored.contains(other), "split at \(split)")
                #expect(stored == "step started\ntoken=*** and again ******\npush *** done\n")
                #expect(record.reference.sha256 == ContentDigest.sha256Hex(of: Array(stored.utf8)))
            }
            // Byte-at-a-time chunks.
            let record = try await store.put(
                ChunkList(chunks: log.map { [$0] }),
                description: ResourceDescription(mediaType: "text/plain"), redactor: redactor)
            #expect(
                !String(decoding: try await store.readAll(record.reference), as: UTF8.self).contains(secret))
            // Binary content is stored as it is.
            let binary = try await store.put(
                bytes: log, description: ResourceDescription(mediaType: "application/octet-stream"),
                redactor: redactor)
            #expect(try await store.readAll(binary.reference) == log)
        }
    }

    @Test(arguments: ResourceBackendUnderTest.allCases)
    func valuesOverTheInlineLimitBecomeReferences(_ backend: ResourceBackendUnderTest) async throws {
        try await withResourceStore(backend) { store, _, _ in
            let limits = ResourceLimits(inlineLimit: 1_000)
            // {"log":"xxx…"} is 10 bytes plus the string.
            func value(encodedSize: Int) -> JSONValue {
                .object(["log": .string(String(repeating: "x", count: encodedSize - 10))])
            }
            for size in [999, 1_000] {
                let inline = try await store.inlineOrStore(value(encodedSize: size), limits: limits)
                #expect(inline == value(encodedSize: size))
                #expect(inline.jsonBytes(.canonical).count == size)
            }
            let big = value(encodedSize: 1_001)
            let replaced = try await store.inlineOrStore(big, limits: limits, name: "output")
            let reference = try #require(ResourceStore.storedReference(in: replaced))
            #expect(replaced["size"] == .number(JSONNumber(1_001)))
            #expect(replaced["type"] == .string("application/json"))
            #expect(try await store.readAll(reference) == big.jsonBytes(.canonical))
            #expect(try await store.show(reference).mediaType == "application/json")
        }
    }

    func insertRun(_ id: RunID, finishedDaysAgo: Int?, on pool: PGPool) async throws {
        let status = finishedDaysAgo == nil ? "running" : "succeeded"
        let finished = finishedDaysAgo.map { Date().addingTimeInterval(-Double($0) * 86_400) }
        try await pool.withTransaction { connection in
            try await connection.execute(
                "INSERT INTO flows (name) VALUES ('resource-test') ON CONFLICT DO NOTHING")
            try await connection.execute(
                """
                INSERT INTO flow_versions (flow, version, sha256, definition, source, author)
                VALUES ('resource-test', 1, \(String(repeating: "0", count: 64)), '{}', '', 'test')
                ON CONFLICT DO NOTHING
                """)
            try await connection.execute(
                """
                INSERT INTO runs (id, flow, version, status, input, idempotency_key, correlation_id, actor,
                                  created_at, finished_at)
                VALUES (\(id), 'resource-test', 1, \(status), '{}', \(id.description), 'c', 'test',
                        now() - interval '45 days', \(finished))
                """)
        }
    }
}

/// The number of chunks an endless upload has produced so far.
final class ProducedCounter: Sendable {
    private let storage = Mutex(0)
    var value: Int { storage.withLock { $0 } }
    func set(_ count: Int) { storage.withLock { $0 = count } }
}
