import Dogpile
import Testing

@Suite struct GenerationDecisionTests {
    @Test(arguments: [
        (GenerationDecision.ValueState.fresh, false, GenerationDecision.useValue),
        (.fresh, true, .useValue),
        (.expiring, false, .regenerate),
        (.expiring, true, .useValue),
        (.stale, false, .regenerate),
        (.stale, true, .useStaleValue),
        (.missing, false, .regenerate),
        (.missing, true, .waitForValue),
    ])
    func table(value: GenerationDecision.ValueState, leaseHeld: Bool, expected: GenerationDecision) {
        #expect(GenerationDecision.decide(value: value, leaseHeld: leaseHeld) == expected)
    }
}
