// rlce's Java self-test program for assertion tests (HumanEval-X's class Solution).
import java.util.*;

class Solution {
    public int add(int a, int b) {
        return a + b;
    }

    public List<Integer> pair(int a, int b) {
        return new ArrayList<>(Arrays.asList(a, b));
    }
}
