/* bench/empty.c - a program that exits at once: what a whole VM costs to
 * start and stop (bench/compare's wall_ms). */
int main(void)
{
	return 0;
}
